#!/usr/bin/env bash
# Installs ProvenanceGate.Tool into a fresh folder under RUNNER_TEMP and outputs the executable's path, so the
# job's other tools and a second use of the action never see a half-updated copy. A tool path (rather than
# `dotnet tool exec`) resolves the package once and gives the verify step a plain executable to run.
set -euo pipefail
tool_dir="${RUNNER_TEMP:?RUNNER_TEMP is not set}/provenancegate/tool"
rm -rf "$tool_dir"
args=(tool install ProvenanceGate.Tool --tool-path "$tool_dir")
if [ -n "${PG_TOOL_VERSION:-}" ]; then
  args+=(--version "$PG_TOOL_VERSION")
fi
if [ -n "${PG_TOOL_SOURCE:-}" ]; then
  source="$PG_TOOL_SOURCE"
  # A .nupkg file is accepted for convenience; NuGet wants the folder that holds it.
  if [ -f "$source" ]; then source="$(dirname "$source")"; fi
  args+=(--add-source "$source")
fi
echo "[command] dotnet ${args[*]}"
if ! dotnet "${args[@]}"; then
  echo "::error title=PG6002::PG6002: ProvenanceGate.Tool could not be installed (version '${PG_TOOL_VERSION:-latest}', source '${PG_TOOL_SOURCE:-NuGet}'); see the log above."
  exit 2
fi
exe="$tool_dir/dotnet-provenance"
if [ -f "$exe.exe" ]; then exe="$exe.exe"; fi
echo "path=$exe" >> "$GITHUB_OUTPUT"
