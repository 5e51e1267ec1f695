#!/usr/bin/env bash
# bench/cache.sh: calls through wsgate's response cache, in one command.
#
#   bench/cache.sh            3 rounds, about 7 minutes
#   REPS=1 bench/cache.sh     one round
#   BASE=99a8dd6 bench/cache.sh   also wsgate as it was at revision 99a8dd6
#
# Scenarios, at C = 100 connections, closed loop and --inflight 8:
#   call vs echo  cache hits of the demo's market.symbols (a 56 B reply) and
#                 market.history with 14 points (a 1,040 B reply) against
#                 /echo with messages of the same size, on one wsgate
#   python        market.history hits, 20 points (1.4 KB) and 500 (35 KB),
#                 against bench/python/cached_server.py (asyncio +
#                 websockets + a dict), the textbook approach
#   hit mix       market.history with --miss-ratio 0.05 (95 % hits), and
#                 with --miss-ratio 1 (every call runs the demo: its own
#                 cost), for 20 and 500 points, closed loop at C = 100 and 10
# Each server runs pinned to one core (taskset -c $SERVER_CPU), the load
# generator to the other ($CLIENT_CPU); a fresh server process serves each
# round. The table shows medians over the rounds.
#
# Environment:
#   REPS                     rounds (default 3)
#   OUT                      output folder (default bench/out/cache):
#                            the binary, results.jsonl, table.md, logs
#   SERVER_CPU, CLIENT_CPU   cores for the servers and the load (1 and 0)
#   PYTHON                   interpreter with websockets (default /usr/bin/python3)
#   DURATION, WARMUP         measured window and warmup per run (3s, 1s)
#   BASE                     a git revision (hash, tag, branch): builds
#                            wsgate as it was there (git archive into
#                            $OUT/base-src) into $BIN/wsgate-base, runs every
#                            wsgate scenario against it too in each round,
#                            and adds a table of the two side by side
#
# Loopback only; every run is bounded by wsgate bench's --duration.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
OUT=${OUT:-$ROOT/bench/out/cache}
BIN=$OUT/bin
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
REPS=${REPS:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
TIME=(--duration "${DURATION:-3s}" --warmup "${WARMUP:-1s}")

mkdir -p "$BIN" "$OUT/logs"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

echo "building wsgate into $BIN" >&2
build_wsgate
BASE_REV=""
if [ -n "${BASE:-}" ]; then
	build_base "$BASE"
fi
if ! "$PYTHON" -c 'import websockets' 2>/dev/null; then
	echo "$PYTHON lacks websockets (Debian: apt-get install python3-websockets)" >&2
	exit 1
fi

SPID=""
PORT=""

# start_server NAME ROUND: start it pinned to SERVER_CPU; sets SPID and PORT.
start_server() {
	local name=$1 log=$OUT/logs/$1.log
	PORT=$((9300 + 10 * $2))
	case $name in
	wsgate | wsgate-base)
		[ "$name" = wsgate ] || PORT=$((PORT + 2))
		taskset -c "$SERVER_CPU" "$BIN/$name" --listen "127.0.0.1:$PORT" --log-level warn --shutdown-grace 2s >>"$log" 2>&1 &
		;;
	python)
		PORT=$((PORT + 1))
		taskset -c "$SERVER_CPU" "$PYTHON" "$ROOT/bench/python/cached_server.py" "$PORT" >>"$log" 2>&1 &
		;;
	esac
	SPID=$!
	wait_listening "$name" "$log"
}

trap stop_server EXIT

# run_bench SERVER SCENARIO ROW REP ARGS...: one wsgate bench run against
# the running server, appended to results.jsonl (bench/lib.sh).
run_bench() { record_bench "$1" "$2" row "$3" "$4" "${@:5}"; }

mode() { if [ "$1" = 1 ]; then echo "closed loop"; else echo "inflight $1"; fi; }

# wsgate_scenarios NAME REP: every wsgate scenario against a fresh
# server NAME (wsgate or wsgate-base).
wsgate_scenarios() {
	local name=$1 rep=$2 ws k m p c miss
	echo "round $rep/$REPS: $name" >&2
	start_server "$name" "$rep"
	ws=ws://127.0.0.1:$PORT
	for k in 1 8; do
		m=$(mode $k)
		run_bench "$name" "call vs echo" "56 B, $m, echo" "$rep" echo --url "$ws/echo" --size 56 --text --inflight $k "${TIME[@]}"
		run_bench "$name" "call vs echo" "56 B, $m, cached call" "$rep" call --url "$ws/ws" --method market.symbols --inflight $k "${TIME[@]}"
		run_bench "$name" "call vs echo" "1,040 B, $m, echo" "$rep" echo --url "$ws/echo" --size 1040 --text --inflight $k "${TIME[@]}"
		run_bench "$name" "call vs echo" "1,040 B, $m, cached call" "$rep" call --url "$ws/ws" --method market.history --args '{"symbol":"ACME","points":14}' --inflight $k "${TIME[@]}"
		for p in 20 500; do
			run_bench "$name" python "$p points, $m" "$rep" call --url "$ws/ws" --method market.history --args "{\"symbol\":\"ACME\",\"points\":$p}" --inflight $k "${TIME[@]}"
		done
	done
	for c in 100 10; do
		for p in 20 500; do
			for miss in 0.05 1; do
				run_bench "$name" "hit mix" "C=$c, $p points, miss ratio $miss" "$rep" call --url "$ws/ws" --conns $c --method market.history --args "{\"symbol\":\"ACME\",\"points\":$p}" --miss-ratio $miss "${TIME[@]}"
			done
		done
	done
	stop_server
}

START=$(date +%s)
for rep in $(seq "$REPS"); do
	wsgate_scenarios wsgate "$rep"
	if [ -n "$BASE_REV" ]; then
		wsgate_scenarios wsgate-base "$rep"
	fi

	echo "round $rep/$REPS: python" >&2
	start_server python "$rep"
	for k in 1 8; do
		for p in 20 500; do
			run_bench python python "$p points, $(mode $k)" "$rep" call --url "ws://127.0.0.1:$PORT/ws" --method market.history --args "{\"symbol\":\"ACME\",\"points\":$p}" --inflight $k "${TIME[@]}"
		done
	done
	stop_server
done
END=$(date +%s)

{
	echo "calls through the cache on $(uname -srm), $(go version | cut -d' ' -f3), wsgate $("$BIN/wsgate" version | cut -d' ' -f2)${BASE_REV:+, wsgate-base $BASE_REV (BASE=$BASE)}"
	echo "server on core $SERVER_CPU, load on core $CLIENT_CPU; C = 100; $REPS rounds; $((END - START)) s"
	echo
	"$PYTHON" "$ROOT/bench/python/cache_table.py" "$RESULTS"
} | tee "$OUT/table.md"
