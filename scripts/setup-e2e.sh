#!/usr/bin/env bash
# Provisions what the end-to-end tests need, offline (npm registry + Debian only):
# Debian chromium and code-server's build deps, and code-server 4.100.3 (VS Code 1.100.3)
# installed without its download steps. Idempotent: a finished install leaves a marker.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
CACHE_DIR="${LMP_CACHE_DIR:-$HOME/.cache/lm-playground}"
CS_DIR="$CACHE_DIR/code-server-$CODE_SERVER_VERSION"
MARKER="$CS_DIR/.installed"

# Another apt-get or dpkg (e.g. a provisioning beside this one) may hold the package locks: wait
# for it, up to APT_LOCK_WAIT seconds, instead of failing at once. apt-get waits for the dpkg lock
# itself (DPkg::Lock::Timeout) but not for the lists lock of `apt-get update`: that one is retried.
APT_LOCK_WAIT=600
APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock)
apt_get() {
  local deadline=$((SECONDS + APT_LOCK_WAIT)) said='' rc err
  err=$(mktemp)
  while true; do
    if [ -z "$said" ] && command -v fuser >/dev/null && fuser -s "${APT_LOCKS[@]}" 2>/dev/null; then
      echo "setup-e2e: another apt-get or dpkg holds the package lock; waiting for it (up to $APT_LOCK_WAIT s)"
      said=1
    fi
    rc=0
    apt-get -o DPkg::Lock::Timeout=$((deadline > SECONDS ? deadline - SECONDS : 0)) "$@" 2>"$err" || rc=$?
    if [ "$rc" -ne 0 ] && grep -q 'Could not get lock' "$err" && [ "$SECONDS" -lt "$deadline" ]; then
      [ -n "$said" ] || echo "setup-e2e: another apt-get or dpkg holds the package lock; waiting for it (up to $APT_LOCK_WAIT s)"
      said=1
      sleep 2
      continue
    fi
    cat "$err" >&2
    rm -f "$err"
    return "$rc"
  done
}

need_pkgs=()
for pkg in chromium ripgrep libkrb5-dev pkg-config libsecret-1-dev libx11-dev libxkbfile-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "setup-e2e: installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_get update -qq
  apt_get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if [ -f "$MARKER" ]; then
  echo "setup-e2e: code-server $CODE_SERVER_VERSION already installed in $CS_DIR"
  exit 0
fi

echo "setup-e2e: installing code-server $CODE_SERVER_VERSION into $CS_DIR"
rm -rf "$CS_DIR"
mkdir -p "$CS_DIR"
cd "$CS_DIR"
echo '{"name":"lmp-code-server","private":true}' > package.json
export npm_config_yes=true npm_config_unsafe_perm=true npm_config_audit=false npm_config_fund=false
npm install --no-save "code-server@$CODE_SERVER_VERSION" --ignore-scripts --loglevel=error
npm rebuild argon2 --loglevel=error

VS="$CS_DIR/node_modules/code-server/lib/vscode"
(cd "$VS" && npm install --omit=dev --ignore-scripts --loglevel=error)
mkdir -p "$VS/node_modules/@vscode/ripgrep/bin"
cp /usr/bin/rg "$VS/node_modules/@vscode/ripgrep/bin/rg"
(cd "$VS" && npm rebuild kerberos @parcel/watcher @vscode/deviceid @vscode/spdlog native-watchdog node-pty --loglevel=error)
(cd "$VS" && ln -sfn node_modules node_modules.asar)
(cd "$VS/bin/remote-cli" && ln -sfn code-linux.sh code-server)
(cd "$VS/bin/helpers" && ln -sfn browser-linux.sh browser.sh)
(cd "$VS/extensions" && npm install --omit=dev --ignore-scripts --loglevel=error)

touch "$MARKER"
echo "setup-e2e: done"
