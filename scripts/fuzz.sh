#!/usr/bin/env bash
# Runs every Fuzz target in the module for a bounded time each.
# Usage: scripts/fuzz.sh [DURATION]   (default 10s per target)
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10s}
status=0
while IFS= read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    echo "fuzz $pkg $target ($dur)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$dur" -fuzzminimizetime 5s "$pkg" >"/tmp/fuzz-$target.log" 2>&1; then
      echo "FAIL: $pkg $target"; tail -30 "/tmp/fuzz-$target.log"; status=1
    fi
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort)
exit $status
