#!/usr/bin/env bash
# Compare `reprise record` with a bare httputil.ReverseProxy and with no proxy
# at all, on loopback, in one run, alternating the order over several rounds.
#
#   (a) maximum throughput with wrk          (skipped if wrk is unavailable)
#   (b) latency at a fixed rate with vegeta  (p50, p99)
#
# On a small shared machine absolute figures are noise; the verdict uses
# medians over rounds of per-round (paired) ratios and differences.
#
# Environment knobs (defaults in brackets):
#   ROUNDS [3]  WRK_DURATION [5s]  WRK_THREADS [2]  WRK_CONNECTIONS [64]
#   RATE [2000]  VEGETA_DURATION [10s]  TARGET_PATH [/v1/items/123]
#   KEEP_TMP [0]: keep the temporary directory (logs, recording) for a look.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
WRK_DURATION=${WRK_DURATION:-5s}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
RATE=${RATE:-2000}
VEGETA_DURATION=${VEGETA_DURATION:-10s}
TARGET_PATH=${TARGET_PATH:-/v1/items/123}
VEGETA_VERSION=v12.13.0

# Targets the recording proxy must meet.
TARGET_THROUGHPUT_RATIO=0.85 # reprise/bare
TARGET_ADDED_P99_MS=1        # reprise - direct, at RATE

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/reprise-bench.XXXXXX")
PIDS=()

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
log "== building"
go build -o bin/reprise ./cmd/reprise
go build -o "$TMP/backend" ./bench/cmd/backend
go build -o "$TMP/bareproxy" ./bench/cmd/bareproxy

VEGETA=$ROOT/.bin/vegeta
if ! go version -m "$VEGETA" 2>/dev/null | grep -q "vegeta/v12[[:space:]]*$VEGETA_VERSION"; then
	log "== installing vegeta $VEGETA_VERSION into .bin/"
	GOBIN=$ROOT/.bin go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
fi

WRK=$(command -v wrk || true)
if [[ -z $WRK ]] && command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
	log "== installing wrk from Debian"
	apt-get install -y wrk >"$TMP/apt.log" 2>&1 || log "apt-get install wrk failed (see above); throughput runs are skipped"
	WRK=$(command -v wrk || true)
fi
[[ -n $WRK ]] || log "wrk unavailable: skipping the throughput runs (a)"

# ---------------------------------------------------------------- servers
log "== starting backend, bare proxy and reprise record (127.0.0.1 only)"
"$TMP/backend" -listen 127.0.0.1:0 -addr-file "$TMP/backend.addr" 2>"$TMP/backend.log" &
PIDS+=($!)
BACKEND=$(wait_addr "$TMP/backend.addr" "$!") || { log "backend did not start"; cat "$TMP/backend.log" >&2; exit 1; }

"$TMP/bareproxy" -listen 127.0.0.1:0 -upstream "http://$BACKEND" -addr-file "$TMP/bare.addr" 2>"$TMP/bare.log" &
PIDS+=($!)
BARE=$(wait_addr "$TMP/bare.addr" "$!") || { log "bare proxy did not start"; cat "$TMP/bare.log" >&2; exit 1; }

REPRISE_PORT=$("$TMP/backend" -free-port)
ADMIN_PORT=$("$TMP/backend" -free-port)
REPRISE=127.0.0.1:$REPRISE_PORT
bin/reprise record --listen "$REPRISE" --upstream "http://$BACKEND" \
	--out "$TMP/bench.rpr" --admin "127.0.0.1:$ADMIN_PORT" >"$TMP/reprise.log" 2>&1 &
REPRISE_PID=$!
PIDS+=("$REPRISE_PID")
if ! "$TMP/backend" -wait "http://$REPRISE$TARGET_PATH" -timeout 10s 2>/dev/null; then
	log "reprise record is not usable yet; measuring direct and bare proxy only. Its output:"
	sed 's/^/    /' "$TMP/reprise.log" >&2
	REPRISE=""
fi

addr_of() {
	case $1 in
	direct) echo "$BACKEND" ;;
	bare) echo "$BARE" ;;
	reprise) echo "$REPRISE" ;;
	esac
}
PATHS=(direct bare)
[[ -n $REPRISE ]] && PATHS+=(reprise)

# ---------------------------------------------------------------- runs
RESULTS=$TMP/results.tsv # round path metric value
: >"$RESULTS"

run_wrk() { # round path
	local addr out rps
	addr=$(addr_of "$2")
	out=$("$WRK" -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --timeout 5s "http://$addr$TARGET_PATH" 2>&1) || true
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	if [[ -z $rps ]]; then
		log "wrk failed on $2: $out"
		return
	fi
	if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then
		log "warning: wrk saw non-2xx responses on $2"
	fi
	printf '%s\t%s\twrk_rps\t%s\n' "$1" "$2" "$rps" >>"$RESULTS"
}

run_vegeta() { # round path
	local addr json
	addr=$(addr_of "$2")
	json=$(echo "GET http://$addr$TARGET_PATH" |
		"$VEGETA" attack -rate="$RATE" -duration="$VEGETA_DURATION" -timeout=5s |
		"$VEGETA" report -type=json) || {
		log "vegeta failed on $2"
		return
	}
	jq -r --arg p "$2" 'select(.success < 0.999) |
		"  vegeta on \($p): success \(.success), status codes \(.status_codes | tostring), first error: \(.errors[0] // "none")"' <<<"$json" >&2
	jq -r --arg r "$1" --arg p "$2" '
		[$r, $p, "p50_ms", (.latencies."50th" / 1e6)],
		[$r, $p, "p99_ms", (.latencies."99th" / 1e6)],
		[$r, $p, "success", .success] | @tsv' <<<"$json" >>"$RESULTS"
}

# Warm every path (connections, page cache, CPU frequency) before measuring.
for p in "${PATHS[@]}"; do
	echo "GET http://$(addr_of "$p")$TARGET_PATH" | "$VEGETA" attack -rate=500 -duration=1s >/dev/null
done

n=${#PATHS[@]}
for ((round = 1; round <= ROUNDS; round++)); do
	# Rotate the order each round, so that every path takes every slot.
	order=()
	for ((i = 0; i < n; i++)); do
		order+=("${PATHS[$(((i + round - 1) % n))]}")
	done
	log "== round $round/$ROUNDS, order: ${order[*]}"
	if [[ -n $WRK ]]; then
		for p in "${order[@]}"; do run_wrk "$round" "$p"; done
	fi
	for p in "${order[@]}"; do run_vegeta "$round" "$p"; done

	printf '\nRound %d (order: %s)\n' "$round" "${order[*]}"
	{
		printf 'PATH\tWRK req/s\tp50 ms @%d/s\tp99 ms @%d/s\tsuccess\n' "$RATE" "$RATE"
		for p in "${PATHS[@]}"; do
			awk -F'\t' -v r="$round" -v p="$p" '
				$1==r && $2==p {v[$3]=$4}
				END {
					printf "%s\t%s\t%s\t%s\t%s\n", p,
						("wrk_rps" in v) ? sprintf("%.0f", v["wrk_rps"]) : "-",
						("p50_ms" in v) ? sprintf("%.3f", v["p50_ms"]) : "-",
						("p99_ms" in v) ? sprintf("%.3f", v["p99_ms"]) : "-",
						("success" in v) ? sprintf("%.4f", v["success"]) : "-"
				}' "$RESULTS"
		done
	} | column -t -s $'\t'
done

# ---------------------------------------------------------------- verdict
# per_round A B METRIC OP: the per-round values of A op B.
per_round() {
	awk -F'\t' -v a="$1" -v b="$2" -v m="$3" -v op="$4" '
		$3==m && $2==a {x[$1]=$4}
		$3==m && $2==b {y[$1]=$4}
		END {for (r in x) if (r in y) {
			if (op=="/" && y[r] != 0) print x[r]/y[r]
			if (op=="-") print x[r]-y[r]
		}}' "$RESULTS"
}
med() { per_round "$@" | median; }
med_of() { awk -F'\t' -v p="$1" -v m="$2" '$2==p && $3==m {print $4}' "$RESULTS" | median; }

printf '\nMedians over %d rounds (wrk: -t%s -c%s -d%s; vegeta: %d req/s for %s; path %s)\n' \
	"$ROUNDS" "$WRK_THREADS" "$WRK_CONNECTIONS" "$WRK_DURATION" "$RATE" "$VEGETA_DURATION" "$TARGET_PATH"
{
	printf 'PATH\tWRK req/s\tp50 ms\tp99 ms\tsuccess\n'
	for p in "${PATHS[@]}"; do
		printf '%s\t%s\t%s\t%s\t%s\n' "$p" "$(med_of "$p" wrk_rps)" "$(med_of "$p" p50_ms)" "$(med_of "$p" p99_ms)" "$(med_of "$p" success)"
	done
} | column -t -s $'\t'

printf '\nComparisons (median of per-round paired figures)\n'
{
	[[ -n $WRK ]] && printf 'throughput bare/direct\t%.3f\n' "$(med bare direct wrk_rps /)"
	printf 'added p50 bare - direct\t%.3f ms\n' "$(med bare direct p50_ms -)"
	printf 'added p99 bare - direct\t%.3f ms\n' "$(med bare direct p99_ms -)"
	if [[ -n $REPRISE ]]; then
		[[ -n $WRK ]] && printf 'throughput reprise/bare\t%.3f\n' "$(med reprise bare wrk_rps /)"
		[[ -n $WRK ]] && printf 'throughput reprise/direct\t%.3f\n' "$(med reprise direct wrk_rps /)"
		printf 'added p50 reprise - direct\t%.3f ms\n' "$(med reprise direct p50_ms -)"
		printf 'added p99 reprise - direct\t%.3f ms\n' "$(med reprise direct p99_ms -)"
		printf 'added p99 reprise - bare\t%.3f ms\n' "$(med reprise bare p99_ms -)"
	fi
} | column -t -s $'\t'

verdict() { # value op target
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {ok = (op==">=") ? (v+0 >= t+0) : (v+0 <= t+0); print ok ? "MET" : "NOT MET"}'
}
printf '\nTargets\n'
if [[ -z $REPRISE ]]; then
	printf '  throughput reprise/bare >= %s: NOT MEASURED (reprise record unavailable)\n' "$TARGET_THROUGHPUT_RATIO"
	printf '  added p99 reprise - direct <= %s ms at %d req/s: NOT MEASURED (reprise record unavailable)\n' "$TARGET_ADDED_P99_MS" "$RATE"
else
	if [[ -n $WRK ]]; then
		t=$(med reprise bare wrk_rps /)
		printf '  throughput reprise/bare >= %s: %.3f %s\n' "$TARGET_THROUGHPUT_RATIO" "$t" "$(verdict "$t" ">=" "$TARGET_THROUGHPUT_RATIO")"
	else
		printf '  throughput reprise/bare >= %s: NOT MEASURED (no wrk)\n' "$TARGET_THROUGHPUT_RATIO"
	fi
	d=$(med reprise direct p99_ms -)
	printf '  added p99 reprise - direct <= %s ms at %d req/s: %.3f ms %s\n' "$TARGET_ADDED_P99_MS" "$RATE" "$d" "$(verdict "$d" "<=" "$TARGET_ADDED_P99_MS")"
	floor=$(med bare direct p99_ms -)
	if awk -v f="$floor" -v t="$TARGET_ADDED_P99_MS" 'BEGIN {exit !(f > t)}'; then
		printf '  note: a bare ReverseProxy alone adds %.3f ms p99 on this host, above the %s ms target;\n' "$floor" "$TARGET_ADDED_P99_MS"
		printf '        the target cannot be judged here. Reprise against bare: %.3f ms p99.\n' "$(med reprise bare p99_ms -)"
	fi
	if [[ -s $TMP/bench.rpr ]]; then
		printf '  (recording written: %s bytes)\n' "$(stat -c %s "$TMP/bench.rpr")"
	fi
fi
lowest=$(awk -F'\t' '$3=="success" {print $4}' "$RESULTS" | sort -g | head -1)
if [[ -n $lowest ]] && awk -v s="$lowest" 'BEGIN {exit !(s < 0.999)}'; then
	printf '\nwarning: some vegeta runs had success below 99.9%% (lowest %s); their latencies are suspect\n' "$lowest"
fi
