#!/usr/bin/env bash
# Fails when any secret listed in tests/secrets.txt appears in the given files (captured
# test output, logs). Prints the file and line number, never the secret itself.
set -euo pipefail
list="$(dirname "$0")/../tests/secrets.txt"
patterns=$(grep -v '^\s*#' "$list" | grep -v '^\s*$')
found=0
for file in "$@"; do
  [ -f "$file" ] || { echo "scan-secrets: no such file $file" >&2; exit 2; }
  if hits=$(grep -n -F -f <(printf '%s\n' "$patterns") "$file" | cut -d: -f1 | tr '\n' ' '); [ -n "$hits" ]; then
    echo "scan-secrets: a secret appears in $file at line(s) $hits" >&2
    found=1
  fi
done
[ "$found" = 0 ] && echo "scan-secrets: no secret in $# file(s) ($(printf '%s\n' "$patterns" | wc -l) secrets checked)"
exit "$found"
