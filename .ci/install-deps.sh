#!/usr/bin/env bash
# Installs the peers the tests check our output against. Idempotent; safe on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v openssl >/dev/null; then
  apt-get update -qq && apt-get install -y -qq openssl
fi
# ONNX peers: python3-onnx checks our fixtures and reads the same facts; libonnx-testdata is a corpus of real models.
if ! /usr/bin/python3 -c 'import onnx' 2>/dev/null || [ ! -d /usr/share/libonnx-testdata/data ]; then
  apt-get update -qq && apt-get install -y -qq python3-onnx libonnx-testdata
fi
for dir in $(git ls-files '*package-lock.json' | xargs -rn1 dirname); do
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
