#!/usr/bin/env bash
# Resolves the gate's trust inputs (public keys, policy, base fingerprints) so that the pull request under
# judgement cannot supply them. On a pull request, with trust-from: base (the default), each path is read from
# the base commit with `git show <base-sha>:<path>` into a fresh folder, never from the PR's working tree: a PR
# that re-keys, re-signs and relaxes the policy in one commit still meets the base branch's key and policy.
# trusted-public-key (PEM text from a secret or variable) is always added. Outputs the paths verify gets.
set -euo pipefail
fail() { printf '::error title=%s::%s: %s\n' "$1" "$1" "$2"; exit 2; }
split() { printf '%s\n' "$1" | tr ',' '\n' | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | sed '/^$/d'; }

mode="${PG_TRUST_FROM:-base}"
case "$mode" in base|workspace) ;; *) fail PG6001 "trust-from must be 'base' or 'workspace', not '$mode'" ;; esac
out="$(mktemp -d "${RUNNER_TEMP:?RUNNER_TEMP is not set}/provenancegate-trust.XXXXXX")"
base="${PG_BASE_SHA:-}"
if [ "$mode" = workspace ] || [ -z "$base" ]; then
  base=""
  if [ "$mode" = workspace ] && [ -n "${PG_BASE_SHA:-}" ]; then
    echo "::warning title=ProvenanceGate::trust-from: workspace: keys, policy and fingerprints come from the pull request itself, which can change them."
  fi
else
  [[ "$base" =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]] || fail PG6001 "base commit '$base' is not a commit id"
  if ! git cat-file -e "$base^{commit}" 2>/dev/null; then
    git fetch --no-tags --depth=1 origin "$base" >/dev/null 2>&1 ||
      fail PG6005 "base commit $base is not in the checkout and could not be fetched; use actions/checkout with fetch-depth: 0"
  fi
  echo "ProvenanceGate: keys, policy and fingerprints are read from the base commit $base"
fi

# Copies PATH as it is in the base commit to DEST (a file, or a folder with `git archive`); sets $resolved.
from_base() {
  local path="$1" dest="$2" type
  type="$(git cat-file -t "$base:./$path" 2>/dev/null || true)"
  case "$type" in
    blob) git show "$base:./$path" > "$dest"; resolved="$dest" ;;
    tree) mkdir -p "$dest"; git archive "$base" -- "$path" | tar -x -C "$dest"; resolved="$dest/$path" ;;
    *) fail PG6005 "'$path' is not in the base commit $base: a trust file must be on the base branch before a pull request can rely on it (or set trust-from: workspace)" ;;
  esac
}

keys=()
index=0
while IFS= read -r key; do
  index=$((index + 1))
  if [ -n "$base" ]; then from_base "$key" "$out/key-$index.pub"; keys+=("$resolved"); else keys+=("$key"); fi
done < <(split "${PG_PUBLIC_KEYS:-}")
if [ -n "${PG_TRUSTED_PUBLIC_KEY:-}" ]; then
  printf '%s\n' "$PG_TRUSTED_PUBLIC_KEY" > "$out/key-input.pub"
  keys+=("$out/key-input.pub")
fi

policy="${PG_POLICY:-}"
if [ -n "$base" ] && [ -n "$policy" ]; then
  if git cat-file -e "$base:./$policy" 2>/dev/null; then
    case "$policy" in *.json) extension=json ;; *) extension=yaml ;; esac
    from_base "$policy" "$out/policy.$extension"
    policy="$resolved"
  elif ! [[ "$policy" =~ ^[a-z][a-z0-9-]*$ ]]; then
    fail PG6005 "policy '$policy' is not in the base commit $base and is not a built-in profile name"
  fi
fi

fingerprints="${PG_BASE_FINGERPRINTS:-}"
if [ -n "$base" ] && [ -n "$fingerprints" ]; then
  from_base "${fingerprints%/}" "$out/fingerprints"
  fingerprints="$resolved"
fi

delimiter="ghadelimiter_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
{
  printf 'public-keys<<%s\n' "$delimiter"
  if [ "${#keys[@]}" -gt 0 ]; then printf '%s\n' "${keys[@]}"; fi
  printf '%s\n' "$delimiter"
  echo "policy=$policy"
  echo "base-fingerprints=$fingerprints"
  echo "source=${base:-workspace}"
} >> "$GITHUB_OUTPUT"
