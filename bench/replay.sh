#!/usr/bin/env bash
# Compare `reprise replay` with vegeta against one minimal loopback server,
# in one run, alternating the order over several rounds:
#
#   (a) maximum sustained rate: reprise --timing asap on a large recording of
#       CONCURRENCY chained sessions, vs vegeta -rate 0 -max-workers CONCURRENCY
#   (b) generator lag p50/p99 at half reprise's maximum rate: reprise
#       --timing recorded on a recording spaced at that rate, vs vegeta -rate
#   (c) peak RSS of `reprise replay` on 100k and 1M exchanges
#
# Both tools send the same requests (genrec writes the recording and the
# vegeta targets from one generator) and every figure comes from per-request
# results through one program (bench/cmd/lagstat). On a small shared machine
# absolute figures are noise; the verdict uses medians over rounds of
# per-round (paired) ratios.
#
# Environment knobs (defaults in brackets):
#   ROUNDS [3]  CONCURRENCY [64]  MAX_N [100000]: exchanges in the asap recording
#   VEGETA_DURATION [10s]: vegeta's max-rate attack   LAG_DURATION [10s]
#   LAG_RATE [half the median reprise max rate]       MEM_N [1000000]
#   MEM_TIMEOUT [240]: seconds before the 1M replay is interrupted (its peak so far is reported)
#   KEEP_TMP [0]: keep the temporary directory (recordings, results, logs).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
CONCURRENCY=${CONCURRENCY:-64}
MAX_N=${MAX_N:-100000}
VEGETA_DURATION=${VEGETA_DURATION:-10s}
LAG_DURATION=${LAG_DURATION:-10s}
LAG_RATE=${LAG_RATE:-}
MEM_N=${MEM_N:-1000000}
MEM_TIMEOUT=${MEM_TIMEOUT:-240}
VEGETA_VERSION=v12.13.0

# Targets from issue 4, section 9.
TARGET_RATE_RATIO=1.0 # reprise/vegeta, maximum rate
TARGET_LAG_P99_MS=1   # at half rate
TARGET_RSS_MB=200     # replaying MEM_N exchanges
TARGET_RSS_GROWTH=1.25 # "flat": RSS(MEM_N) / RSS(MAX_N) for 10x the exchanges

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/reprise-replay-bench.XXXXXX")
PIDS=()

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM
secs() { # a Go duration in whole seconds or s: 10s -> 10
	local d=$1
	[[ $d =~ ^([0-9]+)s$ ]] || { log "want a duration in whole seconds like 10s, got $d"; exit 2; }
	echo "${BASH_REMATCH[1]}"
}

# ---------------------------------------------------------------- tools
log "== building"
go build -o bin/reprise ./cmd/reprise
for c in backend genrec lagstat; do
	go build -o "$TMP/$c" "./bench/cmd/$c"
done
TIME=$(command -v /usr/bin/time || true)
[[ -x $TIME ]] || { log "/usr/bin/time (GNU time) is needed for peak RSS: apt-get install -y time"; exit 1; }

VEGETA=$ROOT/.bin/vegeta
if ! go version -m "$VEGETA" 2>/dev/null | grep -q "vegeta/v12[[:space:]]*$VEGETA_VERSION"; then
	log "== installing vegeta $VEGETA_VERSION into .bin/"
	GOBIN=$ROOT/.bin go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
fi

# ---------------------------------------------------------------- server
log "== starting the backend (127.0.0.1 only)"
"$TMP/backend" -listen 127.0.0.1:0 -addr-file "$TMP/backend.addr" 2>"$TMP/backend.log" &
PIDS+=($!)
BACKEND=$(wait_addr "$TMP/backend.addr" "$!") || { log "backend did not start"; cat "$TMP/backend.log" >&2; exit 1; }
TARGET=http://$BACKEND

# ---------------------------------------------------------------- recordings
# The asap recording: CONCURRENCY sessions, each a chain (a request starts
# after its predecessor ended), so asap is a closed loop of CONCURRENCY
# workers, like vegeta -max-workers CONCURRENCY.
log "== generating recordings"
"$TMP/genrec" -out "$TMP/max.rpr" -n "$MAX_N" -sessions "$CONCURRENCY" \
	-vegeta-targets "$TMP/targets.txt" -target-base "$TARGET"

RESULTS=$TMP/results.tsv # round tool metric value
: >"$RESULTS"
put() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }
get() { awk -F'\t' -v r="$1" -v t="$2" -v m="$3" '$1==r && $2==t && $3==m {print $4}' "$RESULTS"; }
med_of() { awk -F'\t' -v t="$1" -v m="$2" '$2==t && $3==m {print $4}' "$RESULTS" | median; }
per_round() { # A B METRIC: per-round A/B
	awk -F'\t' -v a="$1" -v b="$2" -v m="$3" '
		$3==m && $2==a {x[$1]=$4}
		$3==m && $2==b {y[$1]=$4}
		END {for (r in x) if ((r in y) && y[r] != 0) print x[r]/y[r]}' "$RESULTS"
}
rss_kb() { awk '/Maximum resident set size/ {print $NF}' "$1"; }

# reprise_run ROUND TAG REC DIR [replay flags...]: one replay under GNU
# time; the figures come from its results.rpr. Exit 3 (invalid run: the
# generator fell behind) is a measurement, not a failure.
reprise_run() {
	local round=$1 tag=$2 rec=$3 dir=$4 rc=0 json
	shift 4
	"$TIME" -v -o "$dir.time" bin/reprise replay "$rec" --target "$TARGET" --out "$dir" "$@" \
		>"$dir.log" 2>&1 || rc=$?
	if [[ $rc != 0 && $rc != 3 ]] || [[ ! -s $dir/results.rpr ]]; then
		log "reprise replay ($tag) failed with exit $rc:"
		sed 's/^/    /' "$dir.log" >&2
		return 0
	fi
	json=$("$TMP/lagstat" -results "$dir/results.rpr")
	put "$round" "$tag" rate "$(jq .rate <<<"$json")"
	put "$round" "$tag" ok_ratio "$(jq '.ok / .requests' <<<"$json")"
	put "$round" "$tag" lag_p50 "$(jq .lag_p50_ms <<<"$json")"
	put "$round" "$tag" lag_p99 "$(jq .lag_p99_ms <<<"$json")"
	put "$round" "$tag" rss_mb "$(awk -v k="$(rss_kb "$dir.time")" 'BEGIN {print k/1024}')"
	put "$round" "$tag" wall_s "$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for (i=1;i<=n;i++) s=s*60+a[i]; print s}' "$dir.time")"
	put "$round" "$tag" summary_lag_p99 "$(jq .generator_lag.p99_ms "$dir/summary.json")"
	rm -f "$dir/results.rpr" # large; the summary stays
}

# vegeta_run ROUND TAG RATE DURATION [attack flags...]
vegeta_run() {
	local round=$1 tag=$2 rate=$3 dur=$4 out=$TMP/vegeta-$1-$2 json
	shift 4
	if ! "$TIME" -v -o "$out.time" "$VEGETA" attack -targets "$TMP/targets.txt" -rate "$rate" \
		-duration "$dur" -max-body 0 -timeout 10s "$@" >"$out.bin" 2>"$out.log"; then
		log "vegeta ($tag) failed:"
		sed 's/^/    /' "$out.log" >&2
		return 0
	fi
	json=$("$VEGETA" encode --to csv "$out.bin" | "$TMP/lagstat" -vegeta-csv - -rate "$rate")
	put "$round" "$tag" rate "$(jq .rate <<<"$json")"
	put "$round" "$tag" ok_ratio "$(jq '.ok / .requests' <<<"$json")"
	if [[ $rate != 0 ]]; then
		put "$round" "$tag" lag_p50 "$(jq .lag_p50_ms <<<"$json")"
		put "$round" "$tag" lag_p99 "$(jq .lag_p99_ms <<<"$json")"
	fi
	put "$round" "$tag" rss_mb "$(awk -v k="$(rss_kb "$out.time")" 'BEGIN {print k/1024}')"
	rm -f "$out.bin"
}

rotate() { # ROUND A B: the two tools in this round's order
	if (($1 % 2)); then echo "$2 $3"; else echo "$3 $2"; fi
}

# Warm up: connections, page cache, CPU frequency.
"$VEGETA" attack -targets "$TMP/targets.txt" -rate 500 -duration 1s -max-body 0 >/dev/null

# ---------------------------------------------------------------- (a) max rate
for ((round = 1; round <= ROUNDS; round++)); do
	order=$(rotate "$round" reprise vegeta)
	log "== (a) maximum rate, round $round/$ROUNDS, order: $order"
	for tool in $order; do
		case $tool in
		reprise) reprise_run "$round" reprise_max "$TMP/max.rpr" "$TMP/run-max-$round" --timing asap ;;
		vegeta) vegeta_run "$round" vegeta_max 0 "$VEGETA_DURATION" -max-workers "$CONCURRENCY" -workers "$CONCURRENCY" ;;
		esac
	done
done

MAX_REPRISE=$(med_of reprise_max rate)
MAX_VEGETA=$(med_of vegeta_max rate)
if [[ -z $LAG_RATE ]]; then
	base=$MAX_REPRISE
	[[ $base == nan ]] && base=$MAX_VEGETA
	LAG_RATE=$(awk -v r="$base" 'BEGIN {printf "%d", r/2}')
fi
if ! ((LAG_RATE > 0)); then
	log "no maximum rate was measured; cannot choose the half rate (set LAG_RATE)"
	exit 1
fi

# ---------------------------------------------------------------- (b) lag at half rate
LAG_S=$(secs "$LAG_DURATION")
LAG_N=$((LAG_RATE * LAG_S))
log "== generating the recorded-mode recording: $LAG_N exchanges at $LAG_RATE/s"
"$TMP/genrec" -out "$TMP/lag.rpr" -n "$LAG_N" -sessions "$CONCURRENCY" -rate "$LAG_RATE" -service 100us
for ((round = 1; round <= ROUNDS; round++)); do
	order=$(rotate "$round" vegeta reprise)
	log "== (b) lag at $LAG_RATE/s, round $round/$ROUNDS, order: $order"
	for tool in $order; do
		case $tool in
		reprise) reprise_run "$round" reprise_lag "$TMP/lag.rpr" "$TMP/run-lag-$round" --timing recorded ;;
		vegeta) vegeta_run "$round" vegeta_lag "$LAG_RATE" "$LAG_DURATION" ;;
		esac
	done
done

# ---------------------------------------------------------------- (c) memory
log "== (c) peak RSS replaying $MEM_N exchanges (asap; interrupted after ${MEM_TIMEOUT}s)"
"$TMP/genrec" -out "$TMP/mem.rpr" -n "$MEM_N" -sessions "$CONCURRENCY"
MEM_DIR=$TMP/run-mem
mem_rc=0
timeout -s INT -k 30 "$MEM_TIMEOUT" "$TIME" -v -o "$MEM_DIR.time" \
	bin/reprise replay "$TMP/mem.rpr" --target "$TARGET" --out "$MEM_DIR" --timing asap >"$MEM_DIR.log" 2>&1 || mem_rc=$?
MEM_RSS=$(awk -v k="$(rss_kb "$MEM_DIR.time" 2>/dev/null)" 'BEGIN {if (k == "") print "nan"; else print k/1024}')
# What the run cost besides memory (the GC's pacing trades one for the other).
MEM_CPU=$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2; n++} END {if (n == 2) print s; else print "nan"}' "$MEM_DIR.time" 2>/dev/null || echo nan)
MEM_STATE=complete
if [[ $mem_rc == 124 || $mem_rc == 130 ]]; then
	if [[ -s $MEM_DIR/summary.json ]]; then
		MEM_STATE="interrupted during the run, $(jq -r '"\(.requests.sent) of \(.requests.planned) sent"' "$MEM_DIR/summary.json")"
	elif [[ -s $MEM_DIR/plan.json ]]; then
		MEM_STATE="interrupted during the run"
	else
		MEM_STATE="interrupted while planning or loading (before the run started)"
	fi
elif [[ $mem_rc != 0 && $mem_rc != 3 ]]; then
	MEM_STATE="failed with exit $mem_rc"
	sed 's/^/    /' "$MEM_DIR.log" >&2
fi
rm -f "$MEM_DIR/results.rpr"

# ---------------------------------------------------------------- report
fmt() { awk -v v="$1" -v f="$2" 'BEGIN {if (v == "" || v == "nan") print "-"; else printf f, v}'; }
printf '\nPer round (asap: %d exchanges over %d sessions; vegeta: -max-workers %d for %s; lag at %d/s for %s)\n' \
	"$MAX_N" "$CONCURRENCY" "$CONCURRENCY" "$VEGETA_DURATION" "$LAG_RATE" "$LAG_DURATION"
{
	printf 'ROUND\tTOOL\tmax req/s\tok\tRSS MB\tlag p50 ms\tlag p99 ms\tok\n'
	for ((round = 1; round <= ROUNDS; round++)); do
		for tool in reprise vegeta; do
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$tool" \
				"$(fmt "$(get "$round" "${tool}_max" rate)" %.0f)" \
				"$(fmt "$(get "$round" "${tool}_max" ok_ratio)" %.4f)" \
				"$(fmt "$(get "$round" "${tool}_max" rss_mb)" %.1f)" \
				"$(fmt "$(get "$round" "${tool}_lag" lag_p50)" %.3f)" \
				"$(fmt "$(get "$round" "${tool}_lag" lag_p99)" %.3f)" \
				"$(fmt "$(get "$round" "${tool}_lag" ok_ratio)" %.4f)"
		done
	done
} | column -t -s $'\t'

printf '\nMedians over %d rounds\n' "$ROUNDS"
{
	printf 'TOOL\tmax req/s\tpeak RSS MB (max run)\tlag p50 ms\tlag p99 ms\n'
	for tool in reprise vegeta; do
		printf '%s\t%s\t%s\t%s\t%s\n' "$tool" "$(fmt "$(med_of "${tool}_max" rate)" %.0f)" \
			"$(fmt "$(med_of "${tool}_max" rss_mb)" %.1f)" \
			"$(fmt "$(med_of "${tool}_lag" lag_p50)" %.3f)" "$(fmt "$(med_of "${tool}_lag" lag_p99)" %.3f)"
	done
} | column -t -s $'\t'
printf '  reprise wall time per max-rate run, planning included: %s s (median); its own summary.json lag p99 at %d/s: %s ms\n' \
	"$(fmt "$(med_of reprise_max wall_s)" %.1f)" "$LAG_RATE" "$(fmt "$(med_of reprise_lag summary_lag_p99)" %.3f)"
printf '  peak RSS replaying %d exchanges: %s MB (%s), CPU %s s (user + system)\n' "$MEM_N" "$(fmt "$MEM_RSS" %.1f)" "$MEM_STATE" "$(fmt "$MEM_CPU" %.1f)"

verdict() { # value op target
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {if (v == "nan" || v == "") {print "NOT MEASURED"; exit} ok = (op==">=") ? (v+0 >= t+0) : (v+0 <= t+0); print ok ? "MET" : "NOT MET"}'
}
RATIO=$(per_round reprise_max vegeta_max rate | median)
LAGP99=$(med_of reprise_lag lag_p99)
GROWTH=$(awk -v a="$MEM_RSS" -v b="$(med_of reprise_max rss_mb)" 'BEGIN {if (a == "nan" || b == "nan" || b == 0) print "nan"; else print a/b}')
printf '\nTargets\n'
printf '  max rate reprise/vegeta >= %s: %s %s\n' "$TARGET_RATE_RATIO" "$(fmt "$RATIO" %.3f)" "$(verdict "$RATIO" ">=" "$TARGET_RATE_RATIO")"
printf '  lag p99 at %d/s <= %s ms: %s ms %s (vegeta: %s ms)\n' "$LAG_RATE" "$TARGET_LAG_P99_MS" "$(fmt "$LAGP99" %.3f)" \
	"$(verdict "$LAGP99" "<=" "$TARGET_LAG_P99_MS")" "$(fmt "$(med_of vegeta_lag lag_p99)" %.3f)"
if [[ $MEM_STATE == complete ]]; then
	printf '  peak RSS for %d exchanges <= %s MB: %s MB %s\n' "$MEM_N" "$TARGET_RSS_MB" "$(fmt "$MEM_RSS" %.1f)" "$(verdict "$MEM_RSS" "<=" "$TARGET_RSS_MB")"
else
	# An interrupted run's peak is a lower bound: above the target is a
	# verdict, below it is not.
	v=$(awk -v m="$MEM_RSS" -v t="$TARGET_RSS_MB" 'BEGIN {print (m != "nan" && m+0 > t+0) ? "NOT MET (lower bound)" : "NOT MEASURED (run incomplete)"}')
	printf '  peak RSS for %d exchanges <= %s MB: at least %s MB %s\n' "$MEM_N" "$TARGET_RSS_MB" "$(fmt "$MEM_RSS" %.1f)" "$v"
fi
printf '  flat: RSS(%d) / RSS(%d) <= %s: %s %s\n' "$MEM_N" "$MAX_N" "$TARGET_RSS_GROWTH" "$(fmt "$GROWTH" %.2f)" \
	"$(if [[ $MEM_STATE == complete ]]; then verdict "$GROWTH" "<=" "$TARGET_RSS_GROWTH"; else awk -v g="$GROWTH" -v t="$TARGET_RSS_GROWTH" 'BEGIN {print (g != "nan" && g+0 > t+0) ? "NOT MET (lower bound)" : "NOT MEASURED (run incomplete)"}'; fi)"
lowest=$(awk -F'\t' '$3=="ok_ratio" {print $4}' "$RESULTS" | sort -g | head -1)
if [[ -n $lowest ]] && awk -v s="$lowest" 'BEGIN {exit !(s < 0.999)}'; then
	printf '\nwarning: some runs had fewer than 99.9%% successful requests (lowest %s); their figures are suspect\n' "$lowest"
fi
