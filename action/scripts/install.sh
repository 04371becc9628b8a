#!/usr/bin/env bash
# Installs the pinned ProvenanceGate.Tool and proves it is the pinned package before anything runs it.
#   install.sh resolve  -> outputs version, sha512 and the tool folder (the actions/cache path) from the pin
#   install.sh install  -> installs into that folder (unless a cached copy still matches), outputs the executable
# The pin (provenancegate-tool.lock beside action.yml) is written at release by scripts/pin-tool.sh. The install
# never reads the workspace's nuget.config: it runs in an empty temp folder with a generated config that clears
# every inherited source, so a pull request cannot point it at a feed of its own. Proxy variables
# (HTTPS_PROXY, NO_PROXY) and NuGet credential providers pass through the environment untouched.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/../provenancegate-tool.lock"
pinned() { sed -n "s/^$1=//p" "$lock"; }
fail() { printf '::error title=%s::%s: %s\n' "$1" "$1" "$2"; exit 2; }
sha512_of() { if command -v sha512sum >/dev/null; then sha512sum "$1"; else shasum -a 512 "$1"; fi | cut -d' ' -f1; }

resolve() {
  local version="${PG_TOOL_VERSION:-}" sha512="${PG_TOOL_SHA512:-}"
  version="${version:-$(pinned version)}"
  if [ -z "$sha512" ]; then
    [ "$version" = "$(pinned version)" ] ||
      fail PG6001 "tool-version '$version' is not the version this action pins ($(pinned version)); give its SHA-512 in tool-sha512 as well"
    sha512="$(pinned sha512)"
  fi
  [[ "$version" =~ ^[0-9A-Za-z.+-]+$ ]] || fail PG6001 "tool-version '$version' is not a NuGet version"
  sha512="$(printf '%s' "$sha512" | tr 'A-F' 'a-f')"
  [[ "$sha512" =~ ^[0-9a-f]{128}$ ]] || fail PG6001 "tool-sha512 must be the 128 hex digits of sha512sum over the .nupkg"
  local root="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:?RUNNER_TEMP is not set}}"
  {
    echo "version=$version"
    echo "sha512=$sha512"
    echo "dir=$root/provenancegate/$version-${sha512:0:32}"
  } >> "$GITHUB_OUTPUT"
}

install() {
  local version="${PG_TOOL_VERSION:?}" sha512="${PG_TOOL_SHA512:?}" dir="${PG_TOOL_DIR:?}"
  local id="provenancegate.tool" lower
  lower="$(printf '%s' "$version" | tr 'A-Z' 'a-z')"
  # NuGet keeps the package it downloaded beside the extracted tool: hashing that file checks the bytes it ran.
  local stored="$dir/.store/$id/$lower/$id/$lower/$id.$lower.nupkg"
  if [ -f "$stored" ] && [ "$(sha512_of "$stored")" = "$sha512" ]; then
    echo "ProvenanceGate.Tool $version: cached copy matches the pinned SHA-512"
  else
    rm -rf "$dir"
    local work source
    work="$(mktemp -d "${RUNNER_TEMP:?}/provenancegate-install.XXXXXX")"
    source="${PG_TOOL_SOURCE:-https://api.nuget.org/v3/index.json}"
    # A .nupkg file is accepted for convenience; NuGet wants the folder that holds it.
    if [ -f "$source" ]; then source="$(cd "$(dirname "$source")" && pwd)"; fi
    source="$(printf '%s' "$source" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g')"
    cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="provenancegate-tool" value="$source" />
  </packageSources>
</configuration>
XML
    echo "[command] dotnet tool install ProvenanceGate.Tool --tool-path $dir --version $version --configfile $work/nuget.config"
    # A private package folder: a poisoned copy in a shared NuGet cache must not stand in for the download.
    if ! (cd "$work" && NUGET_PACKAGES="$work/packages" dotnet tool install ProvenanceGate.Tool --tool-path "$dir" --version "$version" --configfile "$work/nuget.config"); then
      rm -rf "$dir" "$work"
      fail PG6002 "ProvenanceGate.Tool $version could not be installed from '${PG_TOOL_SOURCE:-nuget.org}'; see the log above"
    fi
    rm -rf "$work"
    local actual=""
    [ -f "$stored" ] && actual="$(sha512_of "$stored")"
    if [ "$actual" != "$sha512" ]; then
      rm -rf "$dir"
      fail PG6004 "ProvenanceGate.Tool $version from '${PG_TOOL_SOURCE:-nuget.org}' has SHA-512 ${actual:-unknown}, not the pinned $sha512; it was removed unrun"
    fi
    echo "ProvenanceGate.Tool $version installed; SHA-512 matches the pin"
  fi
  local exe="$dir/dotnet-provenance"
  if [ -f "$exe.exe" ]; then exe="$exe.exe"; fi
  echo "path=$exe" >> "$GITHUB_OUTPUT"
}

case "${1:-}" in
  resolve) resolve ;;
  install) install ;;
  *) echo "usage: install.sh resolve|install" >&2; exit 2 ;;
esac
