#!/usr/bin/env bash
# Builds and packages the extension, then opens it with the embedded model on sample-workspace/:
# in desktop VS Code when `code` is on PATH, else in a local VS Code server (code-server).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
npm run package
if command -v code >/dev/null 2>&1 && [ -z "${LMP_USE_CODE_SERVER:-}" ]; then
  code --install-extension lm-playground.vsix --force
  exec code sample-workspace
fi
bash scripts/setup-e2e.sh
npm run compile >/dev/null
exec node out/scripts/startPlayground.js
