#!/usr/bin/env bash
# Release step: pins the ProvenanceGate.Tool package the wrappers install by default. Writes the package's
# version and SHA-512 to provenancegate-tool.lock beside action.yml and in the Azure task folder, so both check
# the exact bytes that were published. Publish exactly the .nupkg given (or packed) here: `dotnet pack` is not
# byte-for-byte reproducible, so a package packed again later would not match.
#   pin-tool.sh [--print] [PATH/ProvenanceGate.Tool.VERSION.nupkg]   (default: pack src/ProvenanceGate.Tool in Release)
#   --print writes the lock to stdout instead of the two lock files.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
print=false
if [ "${1:-}" = --print ]; then print=true; shift; fi
nupkg="${1:-}"
if [ -z "$nupkg" ]; then
  out="$(mktemp -d)"
  dotnet pack "$root/src/ProvenanceGate.Tool" -c Release -o "$out" >&2
  # The package users name, not the per-platform ones a Release pack writes beside it (ProvenanceGate.Tool.<rid>.*).
  nupkg="$(ls "$out"/ProvenanceGate.Tool.[0-9]*.nupkg)"
fi
file="$(basename "$nupkg")"
version="${file#ProvenanceGate.Tool.}"
version="${version%.nupkg}"
declared="$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' "$root/Directory.Build.props" | head -n1)"
if [ "$version" != "$declared" ]; then
  echo "pin-tool.sh: $file is version $version, but Directory.Build.props says $declared" >&2
  exit 2
fi
sha512="$(sha512sum "$nupkg" | cut -d' ' -f1)"
text="$(printf '# ProvenanceGate.Tool release this wrapper installs by default; written by action/scripts/pin-tool.sh.\nversion=%s\nsha512=%s' "$version" "$sha512")"
if [ "$print" = true ]; then
  printf '%s\n' "$text"
  exit 0
fi
for lock in "$root/action/provenancegate-tool.lock" "$root/azure-pipelines-task/ProvenanceGateVerifyV0/provenancegate-tool.lock"; do
  printf '%s\n' "$text" > "$lock.tmp"
  mv "$lock.tmp" "$lock"
done
echo "pinned $nupkg" >&2
