#!/usr/bin/env bash
# Provisions what the unit tests need besides npm's packages, offline (Debian only): the GGUF tests
# write fixtures with training/export_gguf.py with Debian's /usr/bin/python3: numpy and onnx,
# sentencepiece for a Llama tokenizer, torch and regex for a GPT-2 model read back from ONNX.
set -euo pipefail
SETUP_NAME=setup-unit
# shellcheck source=scripts/debianPackages.sh
source "$(dirname "$0")/debianPackages.sh"
ensure_debian_packages python3-numpy python3-onnx python3-torch python3-sentencepiece python3-regex
