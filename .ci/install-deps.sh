#!/usr/bin/env bash
# Installs the peers the tests check our output against. Idempotent; safe on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v openssl >/dev/null; then
  apt-get update -qq && apt-get install -y -qq openssl
fi
for dir in $(git ls-files '*package-lock.json' | xargs -rn1 dirname); do
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
