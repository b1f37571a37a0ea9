/**
 * The model backends, in the order they are asked to recognise a reference: the first that
 * recognises it opens it. Adding a backend is one module and one line here (README, "Adding a
 * model backend"); the n-gram backend stays last, since it takes any file no other one claims.
 */
import { LmError } from '../../core/errors';
import type { ModelBackend, ModelReference } from './backend';
import { ggufBackend } from './ggufBackend';
import { ngramBackend } from './ngramBackend';
import { onnxBackend } from './onnxBackend';
import { remoteBackend } from './remoteBackend';

export const BACKENDS: readonly ModelBackend[] = [onnxBackend, ggufBackend, remoteBackend, ngramBackend];

export function backendById(id: string): ModelBackend {
  const backend = BACKENDS.find((b) => b.id === id);
  if (!backend) throw new LmError(`no model backend "${id}" (there are ${BACKENDS.map((b) => b.id).join(', ')})`);
  return backend;
}

/** Every kind of reference the backends accept, for messages: "a Hugging Face model folder …; or an ARPA file …". */
export function acceptedReferences(): string {
  const accepted = BACKENDS.map((b) => b.accepts);
  return accepted.length > 1 ? `${accepted.slice(0, -1).join('; ')}; or ${accepted[accepted.length - 1]}` : accepted.join('');
}

/** The first backend that recognises `ref`, with what it would open; undefined when none does. */
export function recognize(ref: ModelReference): { backend: ModelBackend; location: string } | undefined {
  for (const backend of BACKENDS) {
    const location = backend.recognize(ref);
    if (location !== undefined) return { backend, location };
  }
  return undefined;
}

/**
 * The backends' models kept in files, in a few words each, for a file dialog: "ARPA (…), LM
 * Playground n-gram (…), or a Hugging Face model folder (…)". A model on a server is no file.
 */
export function modelKindsLabel(): string {
  const labels = BACKENDS.filter((b) => b.id !== 'remote').map((b) => b.label);
  return labels.length > 1 ? `${labels.slice(0, -1).join(', ')}, or ${labels[labels.length - 1]}` : labels.join('');
}

/** File name endings any backend opens, for a file dialog's filter. */
export function modelFileExtensions(): string[] {
  return [...new Set(BACKENDS.flatMap((b) => b.fileExtensions))];
}
