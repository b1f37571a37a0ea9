#!/usr/bin/env bash
# Provisions what the end-to-end tests need, offline (npm registry + Debian only):
# Debian chromium and code-server's build deps, and code-server 4.100.3 (VS Code 1.100.3)
# installed without its download steps. Idempotent: a finished install leaves a marker.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
CACHE_DIR="${LMP_CACHE_DIR:-$HOME/.cache/lm-playground}"
CS_DIR="$CACHE_DIR/code-server-$CODE_SERVER_VERSION"
MARKER="$CS_DIR/.installed"

SETUP_NAME=setup-e2e
# shellcheck source=scripts/debianPackages.sh
source "$(dirname "$0")/debianPackages.sh"
ensure_debian_packages chromium ripgrep libkrb5-dev pkg-config libsecret-1-dev libx11-dev libxkbfile-dev

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
