#!/usr/bin/env bash
# Posts the verify report to GitHub through the tool's one GitHub client (`dotnet provenance github`): the PR
# comment and/or the check run. A read-only token (forks, Dependabot) makes the tool print one PG6007 notice and
# exit 0; the gate itself is applied by the last step either way.
set -euo pipefail
targets=()
if [ "${PG_COMMENT:-}" = true ] && [ -n "${PG_PULL_REQUEST:-}" ]; then targets+=(--pr-comment); fi
if [ "${PG_CHECK:-}" = true ]; then targets+=(--check); fi
if [ "${#targets[@]}" -eq 0 ]; then
  echo "ProvenanceGate: nothing to post (no pull request to comment on, no check run asked for)"
  exit 0
fi
args=(github --markdown "${PG_MARKDOWN:?}" "${targets[@]}")
if [ -n "${PG_JSON:-}" ]; then args+=(--report "$PG_JSON"); fi
echo "[command] ${PG_TOOL:?} ${args[*]}"
exec "$PG_TOOL" "${args[@]}"
