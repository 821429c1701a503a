#!/usr/bin/env bash
# Regenerates the committed recordings in testdata/recordings/ by recording
# seeded tester populations against the reference stack (local driver).
# Recordings carry wall-clock times and server-issued IDs, so a rerun gives a
# different file with the same shape.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/reprise ./cmd/reprise
out=testdata/recordings
mkdir -p "$out"
# A contention-heavy trading burst: mostly traders sniping the same hot items.
bin/reprise demo --seed 7 --testers 40 --duration 8s --mix trader=0.8,bot=0.2 \
  --out "$out/trading-burst.rpr" >/dev/null
# A long mixed session: every profile, for a minute.
bin/reprise demo --seed 11 --testers 30 --duration 60s \
  --mix casual=0.35,trader=0.2,grinder=0.2,flaky=0.15,bot=0.1 \
  --out "$out/long-mixed.rpr" >/dev/null
for f in "$out"/*.rpr; do
  printf '%s: ' "$f"; bin/reprise inspect --json "$f" | grep -m1 -o '"exchanges": *[0-9]*' || true
done
