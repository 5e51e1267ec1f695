#!/usr/bin/env bash
# bench/run.sh: wsgate against gorilla/websocket, lxzan/gws, lesismal/nbio
# and coder/websocket, side by side, with the same load from "wsgate bench".
#
#   bench/run.sh            full run, about 14 minutes
#   bench/run.sh --quick    about 3 minutes
#   SCENARIOS=deflate REPS=3 SERVERS="wsgate gws" bench/run.sh   a subset
#   BASE=99a8dd6 SCENARIOS=echo REPS=1 bench/run.sh --quick     this tree's
#          wsgate beside the one of revision 99a8dd6 ("wsgate-base")
#
# Each server runs pinned to one core (taskset -c $SERVER_CPU), the load
# generator to the other (taskset -c $CLIENT_CPU). Scenarios:
#   idle   open 19k connections (quick: 10k), pausing at 1k and 10k (quick:
#          1k) to let the server settle and sample it: the server's RSS growth
#          per connection held and the handshake rate of each storm
#   echo   64 B and 1 KiB messages at C = 100 and 1,000 (quick: 100),
#          closed loop, --inflight 8 (the client writes the 8 messages due
#          at once in one write) and --inflight 8 --write-each (one write
#          per message, as browsers send): msgs/s, p99, server CPU per
#          message and messages per server CPU-second
#   deflate  echo of 4 KiB JSON (--payload json) at C = 100, closed loop
#          and --inflight 8, compressed both ways (--deflate), against the
#          servers that compress: wsgate (on by default), gws -deflate
#          and gorilla -deflate; nbio and coder sit this one out
#   fanout  wsgate's own pub/sub (the wsgate servers only;
#          the peers have none): 10,000 subscribers (quick: 1,000) of one
#          channel on /ws, 20 publications of 1 KB a second through a pub
#          on /ws: deliveries/s, p99 delivery latency, server CPU per
#          delivery (not in the default set: SCENARIOS=fanout)
# Every scenario runs $REPS times (default 3; quick runs idle and deflate
# once), in rounds that visit every server, and the table shows medians.
# A fresh server process serves each idle run and each round of echo or
# deflate runs.
#
# Environment:
#   WSGATE_FLAGS      extra flags for wsgate, e.g. "--engine epoll"
#   WSGATE_ALT_FLAGS  when set, a second wsgate ("wsgate-alt") with these flags
#   WSGATE_ALT2_FLAGS when set, a third ("wsgate-alt2"), e.g. the three engines:
#                     WSGATE_FLAGS="--engine epoll" WSGATE_ALT_FLAGS="--engine
#                     uring" WSGATE_ALT2_FLAGS="--engine goroutine"
#   BASE              a git revision (hash, tag, branch): builds wsgate as it
#                     was there (git archive into $OUT/base-src) into
#                     $BIN/wsgate-base and adds it, with WSGATE_FLAGS, to every
#                     scenario and table as "wsgate-base"; its "vs wsgate"
#                     column compares the two revisions
#   SERVERS           which servers (default: wsgate gorilla gws nbio coder)
#   SCENARIOS         which scenarios (default: idle echo deflate)
#   REPS              repetitions (default 3)
#   OUT               output folder (default bench/out): binaries, results.jsonl,
#                     table.md and the servers' logs
#   SERVER_CPU, CLIENT_CPU  cores for the server and the load (default 1 and 0)
#
# Loopback only; every run is bounded by wsgate bench's --duration.
set -euo pipefail

QUICK=0
case "${1:-}" in
--quick) QUICK=1 ;;
"") ;;
*)
	echo "usage: bench/run.sh [--quick]" >&2
	exit 2
	;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
OUT=${OUT:-$ROOT/bench/out}
BIN=$OUT/bin
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
REPS=${REPS:-3}
WSGATE_FLAGS=${WSGATE_FLAGS:-}
SERVERS=${SERVERS:-"wsgate gorilla gws nbio coder"}
SCENARIOS=${SCENARIOS:-"idle echo deflate"}
for sc in $SCENARIOS; do
	case $sc in
	idle | echo | deflate | fanout) ;;
	*)
		echo "unknown scenario $sc: want idle, echo, deflate or fanout" >&2
		exit 2
		;;
	esac
done
if [ -n "${WSGATE_ALT_FLAGS:-}" ]; then
	SERVERS="$SERVERS wsgate-alt"
fi
if [ -n "${WSGATE_ALT2_FLAGS:-}" ]; then
	SERVERS="$SERVERS wsgate-alt2"
fi
if [ -n "${BASE:-}" ]; then
	SERVERS="$SERVERS wsgate-base"
fi

if [ "$QUICK" = 1 ]; then
	IDLE_STEPS="1000"
	IDLE_CONNS=10000
	IDLE_REPS=1
	DEFLATE_REPS=1
	ECHO_CONNS="100"
	FANOUT_CONNS=1000
	ECHO_TIME=(--duration 1s --warmup 300ms)
	IDLE_TIME=(--duration 500ms --warmup 500ms)
else
	IDLE_STEPS="1000,10000"
	IDLE_CONNS=19000
	IDLE_REPS=$REPS
	DEFLATE_REPS=$REPS
	ECHO_CONNS="100 1000"
	FANOUT_CONNS=10000
	ECHO_TIME=(--duration 2s --warmup 1s)
	IDLE_TIME=(--duration 1s --warmup 1s)
fi

mkdir -p "$BIN" "$OUT/logs"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

echo "building wsgate and the peers into $BIN" >&2
build_wsgate
BASE_REV=""
if [ -n "${BASE:-}" ]; then
	build_base "$BASE"
fi
(cd "$ROOT/bench" && for p in gorilla gws nbio coder; do go build -o "$BIN/$p" "./peers/$p"; done && go build -o "$BIN/report" ./report)

SPID=""
PORT=""

# port_of NAME ROUND: each server listens on a port of its own, another
# one each round, so no new connection meets a TIME_WAIT left by the
# previous round on the server's side.
port_of() {
	local i
	case $1 in
	wsgate) i=1 ;;
	gorilla) i=2 ;;
	gws) i=3 ;;
	nbio) i=4 ;;
	coder) i=5 ;;
	wsgate-alt) i=6 ;;
	wsgate-base) i=7 ;;
	wsgate-alt2) i=8 ;;
	*)
		echo "unknown server $1" >&2
		exit 2
		;;
	esac
	echo $((9100 + 10 * $2 + i))
}

# wants SCENARIO: whether SCENARIOS includes it.
wants() {
	case " $SCENARIOS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# is_wsgate NAME: whether the server is a wsgate (it has pub/sub).
is_wsgate() {
	case $1 in
	wsgate | wsgate-alt | wsgate-alt2 | wsgate-base) return 0 ;;
	esac
	return 1
}

# can_deflate NAME: whether the server takes part in the deflate scenario.
can_deflate() {
	case $1 in
	wsgate | wsgate-alt | wsgate-alt2 | wsgate-base | gws | gorilla) return 0 ;;
	esac
	return 1
}

# start_server NAME ROUND [PEER_FLAGS...]: start it pinned to SERVER_CPU;
# sets SPID and PORT. PEER_FLAGS go to the peers, not to wsgate.
start_server() {
	local name=$1
	PORT=$(port_of "$name" "$2")
	shift 2
	local log=$OUT/logs/$name.log
	case $name in
	wsgate)
		# shellcheck disable=SC2086 # WSGATE_FLAGS is a list of flags
		taskset -c "$SERVER_CPU" "$BIN/wsgate" --listen "127.0.0.1:$PORT" --log-level warn --shutdown-grace 2s $WSGATE_FLAGS >>"$log" 2>&1 &
		;;
	wsgate-alt)
		# shellcheck disable=SC2086
		taskset -c "$SERVER_CPU" "$BIN/wsgate" --listen "127.0.0.1:$PORT" --log-level warn --shutdown-grace 2s $WSGATE_ALT_FLAGS >>"$log" 2>&1 &
		;;
	wsgate-alt2)
		# shellcheck disable=SC2086
		taskset -c "$SERVER_CPU" "$BIN/wsgate" --listen "127.0.0.1:$PORT" --log-level warn --shutdown-grace 2s $WSGATE_ALT2_FLAGS >>"$log" 2>&1 &
		;;
	wsgate-base)
		# shellcheck disable=SC2086
		taskset -c "$SERVER_CPU" "$BIN/wsgate-base" --listen "127.0.0.1:$PORT" --log-level warn --shutdown-grace 2s $WSGATE_FLAGS >>"$log" 2>&1 &
		;;
	*)
		taskset -c "$SERVER_CPU" "$BIN/$name" -addr "127.0.0.1:$PORT" "$@" >>"$log" 2>&1 &
		;;
	esac
	SPID=$!
	wait_listening "$name" "$log"
}

trap stop_server EXIT

# run_bench SERVER SCENARIO KIND REP ARGS...: one wsgate bench run against
# the running server, appended to results.jsonl (bench/lib.sh).
run_bench() { record_bench "$1" "$2" kind "$3" "$4" "${@:5}"; }

echo_scenarios() {
	local name=$1 rep=$2 url=ws://127.0.0.1:$3/echo
	for size in 64 1024; do
		for c in $ECHO_CONNS; do
			# 8w: 8 in flight, each message written on its own.
			for k in 1 8 8w; do
				local mode="closed loop" each=()
				case $k in
				8) mode="inflight 8" ;;
				8w) mode="inflight 8, one write per message" each=(--write-each) k=8 ;;
				esac
				local label="echo $size B, C=$c, $mode"
				[ "$size" = 1024 ] && label="echo 1 KiB, C=$c, $mode"
				run_bench "$name" "$label" echo "$rep" echo --url "$url" --conns "$c" --size "$size" --inflight "$k" "${each[@]}" "${ECHO_TIME[@]}"
			done
		done
	done
}

# deflate_scenarios NAME REP PORT: echo of 4 KiB JSON, compressed both
# ways. wsgate bench --deflate fails when the server declines.
deflate_scenarios() {
	local name=$1 rep=$2 url=ws://127.0.0.1:$3/echo
	for k in 1 8; do
		local mode="closed loop"
		[ "$k" = 1 ] || mode="inflight $k"
		run_bench "$name" "echo 4 KiB JSON deflate, C=100, $mode" echo "$rep" echo --url "$url" --conns 100 --size 4096 --payload json --deflate --inflight "$k" "${ECHO_TIME[@]}"
	done
}

START=$(date +%s)
for rep in $(seq "$REPS"); do
	for name in $SERVERS; do
		echo "round $rep/$REPS: $name" >&2
		if wants idle && [ "$rep" -le "$IDLE_REPS" ]; then
			start_server "$name" "$rep"
			run_bench "$name" "idle conns" idle "$rep" conns --url "ws://127.0.0.1:$PORT/echo" --conns "$IDLE_CONNS" --steps "$IDLE_STEPS" "${IDLE_TIME[@]}"
			stop_server
		fi
		if wants echo; then
			start_server "$name" "$((REPS + rep))"
			echo_scenarios "$name" "$rep" "$PORT"
			stop_server
		fi
		if wants fanout && is_wsgate "$name"; then
			start_server "$name" "$((3 * REPS + rep))"
			run_bench "$name" "fan-out 1 KB to $FANOUT_CONNS subscribers, 20 pubs/s" fanout "$rep" fanout --url "ws://127.0.0.1:$PORT/ws" --conns "$FANOUT_CONNS" --size 1000 --rate 20 "${ECHO_TIME[@]}"
			stop_server
		fi
		if wants deflate && can_deflate "$name" && [ "$rep" -le "$DEFLATE_REPS" ]; then
			start_server "$name" "$((2 * REPS + rep))" -deflate
			deflate_scenarios "$name" "$rep" "$PORT"
			stop_server
		fi
	done
done
END=$(date +%s)

{
	echo "wsgate vs peers on $(uname -srm), $(go version | cut -d' ' -f3), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
	echo "wsgate $("$BIN/wsgate" version | cut -d' ' -f2)${BASE_REV:+, wsgate-base $BASE_REV (BASE=$BASE)}"
	echo "server on core $SERVER_CPU, load on core $CLIENT_CPU; $REPS rounds$([ "$QUICK" = 1 ] && echo ", quick (idle and deflate once)"); SCENARIOS='$SCENARIOS'; WSGATE_FLAGS='$WSGATE_FLAGS'${WSGATE_ALT_FLAGS:+, WSGATE_ALT_FLAGS='$WSGATE_ALT_FLAGS'}${WSGATE_ALT2_FLAGS:+, WSGATE_ALT2_FLAGS='$WSGATE_ALT2_FLAGS'}; $((END - START)) s"
	echo
	"$BIN/report" "$RESULTS"
} | tee "$OUT/table.md"
