#!/usr/bin/env bash
# The stack's health check under sustained load: with every fault off, TESTERS
# testers play for DURATION through the recording proxy against the local
# stack; the run fails if any request got a 5xx or failed in transport other
# than by the flaky profile's own injected faults.
#   scripts/soak.sh            # 50 testers, 5 minutes
#   TESTERS=20 DURATION=1m scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TESTERS=${TESTERS:-50}
DURATION=${DURATION:-5m}
go build -o bin/reprise ./cmd/reprise
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bin/reprise demo --seed 5 --testers "$TESTERS" --duration "$DURATION" --max-actions 1000000 \
  --mix casual=0.3,trader=0.25,grinder=0.2,flaky=0.1,bot=0.15 >"$log.out" 2>"$log"
cat "$log"
line=$(grep '^demo: testers:' "$log")
fivexx=$(sed -E 's/.*5xx ([0-9]+).*/\1/' <<<"$line")
transport=$(sed -E 's/.* ([0-9]+) transport errors.*/\1/' <<<"$line")
grep -E '^(Duration|Records|HTTP status|Errors):' "$log.out" || true
rm -f "$log.out"
if [[ $fivexx != 0 || $transport != 0 ]]; then
  echo "SOAK FAILED: $fivexx responses 5xx, $transport unintended transport errors"
  exit 1
fi
echo "SOAK PASSED: $TESTERS testers for $DURATION, no service errors beyond the flaky profile's injected faults"
