#!/usr/bin/env bash
# Runs one of the action's Node.js scripts. GitHub-hosted runners have node on PATH; a `container:` job often
# does not, but the runner mounts its own Node.js there (/__e/node24, /__e/node20), which is used instead.
# Without either the step says so (PG6006) rather than failing with "node: command not found".
set -euo pipefail
node_bin="$(command -v node || true)"
if [ -z "$node_bin" ]; then
  for candidate in /__e/node24/bin/node /__e/node20/bin/node; do
    if [ -x "$candidate" ]; then node_bin="$candidate"; break; fi
  done
fi
if [ -z "$node_bin" ]; then
  echo "::error title=PG6006::PG6006: Node.js was not found on PATH nor in the runner's externals (/__e/node24, /__e/node20). In a container job use an image with node, or add actions/setup-node before this action."
  printf 'result=error\nexit-code=2\n' >> "$GITHUB_OUTPUT"
  exit 2
fi
exec "$node_bin" "$@"
