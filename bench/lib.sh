# Shared by the bench scripts (sourced, not run). The caller sets TMP and
# appends the PIDs of its background helpers to PIDS.

log() { printf '%s\n' "$*" >&2; }

# cleanup stops every helper (SIGTERM, then SIGKILL after a bounded 3 s)
# and removes TMP unless KEEP_TMP=1.
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ ${KEEP_TMP:-0} == 1 ]]; then
		log "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}

# wait_addr FILE PID: the address a helper wrote once listening.
wait_addr() {
	local file=$1 pid=$2
	for _ in $(seq 100); do
		if [[ -s $file ]]; then
			cat "$file"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# median of the numbers on stdin, one a line.
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
