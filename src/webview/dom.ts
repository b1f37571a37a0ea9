/** Small DOM helpers shared by the webview pages. */

/** An element with attributes and children. */
export function el<T extends HTMLElement = HTMLElement>(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): T {
  const e = document.createElement(tag) as T;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** Nodes gathered in one fragment, to append a list of any length (a spread would pass each as a call argument). */
export function fragment(nodes: readonly (Node | string)[]): DocumentFragment {
  const f = document.createDocumentFragment();
  for (const n of nodes) f.append(n);
  return f;
}

/** A theme colour (a `--vscode-*` CSS variable) as the page renders it, for canvas charts. */
export function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}
