# bench/lib.sh: what bench/run.sh and bench/cache.sh share. Sourced, not
# run. The scripts set ROOT (the repository), BIN (built binaries), OUT
# (output folder), RESULTS (the JSON lines file) and CLIENT_CPU; SPID and
# PORT are the running server's process and port.

# build_wsgate: builds the working tree's wsgate into $BIN/wsgate, with its
# version (git describe) embedded as make build does.
build_wsgate() {
	(cd "$ROOT" && go build -ldflags "-X github.com/wsgate/wsgate/internal/cli.buildVersion=$(git describe --always --dirty 2>/dev/null)" -o "$BIN/wsgate" ./cmd/wsgate)
}

# build_base REV: builds wsgate as it was at git revision REV into
# $BIN/wsgate-base, from a copy of that revision's files (git archive into
# $OUT/base-src, so no worktree is left registered), and sets BASE_REV to
# REV's short hash. The load generator stays the working tree's wsgate
# bench, so both servers get the same load.
build_base() {
	local src=$OUT/base-src
	BASE_REV=$(git -C "$ROOT" rev-parse --short "$1^{commit}") || {
		echo "BASE=$1 is not a git revision" >&2
		exit 2
	}
	echo "building wsgate at $BASE_REV into $BIN/wsgate-base" >&2
	rm -rf "$src"
	mkdir -p "$src"
	git -C "$ROOT" archive "$BASE_REV" | tar -x -C "$src"
	(cd "$src" && go build -ldflags "-X github.com/wsgate/wsgate/internal/cli.buildVersion=$BASE_REV" -o "$BIN/wsgate-base" ./cmd/wsgate)
}

# wait_listening NAME LOG: waits until the server SPID accepts connections
# on 127.0.0.1:PORT; ends the script when it exits or does not listen
# within 10 s.
wait_listening() {
	local name=$1 log=$2
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$SPID" 2>/dev/null; then
			echo "$name exited at start; see $log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "$name did not listen on 127.0.0.1:$PORT within 10s" >&2
	exit 1
}

# stop_server stops the running server, if any.
stop_server() {
	if [ -n "$SPID" ]; then
		kill "$SPID" 2>/dev/null || true
		wait "$SPID" 2>/dev/null || true
		SPID=""
	fi
}

# record_bench SERVER SCENARIO KEY VALUE REP ARGS...: one "wsgate bench
# ARGS..." run against the running server, appended to $RESULTS as
# {"server","scenario",KEY:VALUE,"rep","error","result"}.
record_bench() {
	local name=$1 scenario=$2 key=$3 value=$4 rep=$5
	shift 5
	local out err=""
	if ! out=$(taskset -c "$CLIENT_CPU" "$BIN/wsgate" bench "$@" --json --quiet --server-pid "$SPID" 2>"$OUT/last.err"); then
		err=$(tr -d '\000-\037"\\' <"$OUT/last.err" | tail -c 300)
		[ -n "$err" ] || err="failed"
	fi
	[ -n "$out" ] || out=null
	printf '{"server":"%s","scenario":"%s","%s":"%s","rep":%d,"error":"%s","result":%s}\n' \
		"$name" "$scenario" "$key" "$value" "$rep" "$err" "$out" >>"$RESULTS"
	if [ -n "$err" ]; then
		echo "  $name / $scenario / $value / run $rep: $err" >&2
	fi
}

# PIDS are the background processes spawn started; stop_all ends them
# and waits for them (trap it on EXIT).
PIDS=()
stop_all() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
}

# spawn NAME PORT CMD...: runs CMD in the background on $SERVER_CPU,
# logging to $OUT/logs/NAME.log, and waits until 127.0.0.1:PORT accepts;
# sets SPID.
spawn() {
	local name=$1 port=$2 log=$OUT/logs/$1.log
	shift 2
	: >"$log"
	taskset -c "$SERVER_CPU" "$@" >>"$log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	PORT=$port
	wait_listening "$name" "$log"
}

# finish_round BENCH REPORT NOTE HEADER: waits for the bench process
# BENCH, then prints HEADER, the report bench wrote to REPORT, NOTE (when
# not empty) and bench's exit status when it failed, keeping all of it in
# REPORT; then stops every process spawn started.
finish_round() {
	local bench=$1 report=$2 note=$3 header=$4 status=0
	wait "$bench" || status=$?
	{
		echo "$header"
		cat "$report"
		[ -z "$note" ] || echo "  $note"
		[ "$status" -eq 0 ] || echo "  bench exited with $status: $(cat "$OUT/logs/bench.err")"
		echo
	} | tee "$report.tmp"
	mv "$report.tmp" "$report"
	stop_all
}
