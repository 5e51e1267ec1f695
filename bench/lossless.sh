#!/usr/bin/env bash
# bench/lossless.sh: subscribers whose network drops again and again,
# across processes: does every one end with every publication once, in
# order?
#
#   bench/lossless.sh                         one node, then three on NATS, about 4 minutes
#   SCENARIOS=one BACKOFF_MAX=2s bench/lossless.sh
#
# Each scenario gets fresh servers: "one" is a wsgate with the in-memory
# broker; "three" a nats-server (JetStream on) and three wsgate --nats
# nodes, one of which is killed with SIGKILL KILL_AFTER seconds after the
# load starts (about midway through the drops). Then `wsgate bench fanout`
# in drop mode dials CONNS Go clients (package client, the nodes as
# seeds), each subscribed to one channel, while a Go client of its own
# publishes RATE numbered publications a second. Each subscriber's TCP
# connection is reset (SO_LINGER 0: an RST, no Close frame) every EVERY
# (±20 %, each subscriber on a schedule of its own) and its dials are
# refused for FOR; it reconnects by itself and resumes with since. bench
# reports the delivered share of the acknowledged publications,
# duplicates, out of order, gaps (and resumes answered recovered:false),
# and per drop the time to the next connection, the replay on it and the
# catch-up; it exits non-zero on a loss no gap explains, a duplicate or a
# reordering. The servers run on core SERVER_CPU, the clients on
# CLIENT_CPU.
#
# Environment:
#   SCENARIOS          one, three, or both (default "one three")
#   CONNS, RATE        subscribers (1000) and publications per second (100)
#   EVERY, FOR         drop schedule (5s, 2s)
#   DURATION           how long drops begin (60s)
#   BACKOFF_MAX        the clients' Options.BackoffMax (empty: the client's
#                      default, 5s; the attempt count starts over after a
#                      connection that lived 2s)
#   HISTORY            the nodes' --history-size (10000: 100 s at 100/s; a
#                      client away longer gets a gap)
#   KILL_AFTER         seconds from the start of bench to the kill (35)
#   OUT                output folder (default bench/out/lossless)
#   NATS_SERVER        the nats-server binary (default: from go env
#                      GOPATH/bin, where make deps-nats installs v2.15.3)
#   SERVER_CPU, CLIENT_CPU   cores for the servers and the clients (1 and 0)
#
# Loopback only. The reports go to stdout and to $OUT/<scenario>.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
OUT=${OUT:-$ROOT/bench/out/lossless}
BIN=$OUT/bin
read -r -a SCENARIO <<<"${SCENARIOS:-one three}"
CONNS=${CONNS:-1000}
RATE=${RATE:-100}
EVERY=${EVERY:-5s}
FOR=${FOR:-2s}
DURATION=${DURATION:-60s}
BACKOFF_MAX=${BACKOFF_MAX:-}
HISTORY=${HISTORY:-10000}
KILL_AFTER=${KILL_AFTER:-35}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
NATS_SERVER=${NATS_SERVER:-$(go env GOPATH | cut -d: -f1)/bin/nats-server}

BACKOFF_ARGS=()
[ -z "$BACKOFF_MAX" ] || BACKOFF_ARGS=(--backoff-max "$BACKOFF_MAX")
for s in "${SCENARIO[@]}"; do
	case $s in
	one) ;;
	three)
		if ! "$NATS_SERVER" --version >/dev/null 2>&1; then
			echo "no nats-server at $NATS_SERVER: run make deps-nats (it installs v2.15.3), or set NATS_SERVER" >&2
			exit 1
		fi
		;;
	*)
		echo "SCENARIOS wants one, three or both, not $s" >&2
		exit 2
		;;
	esac
done
mkdir -p "$BIN" "$OUT/logs"
echo "building wsgate into $BIN" >&2
build_wsgate

trap stop_all EXIT

# scenario NAME BASE: fresh servers on ports from BASE, bench fanout in
# drop mode, and for "three" a kill -9 of the first node KILL_AFTER
# seconds in.
scenario() {
	local name=$1 base=$2 report=$OUT/$1.txt urls="" victim="" what
	local load
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	if [ "$name" = one ]; then
		what="one node, in-memory broker"
		spawn node "$((base + 1))" "$BIN/wsgate" --listen "127.0.0.1:$((base + 1))" --history-size "$HISTORY" --log-level warn
		urls=ws://127.0.0.1:$((base + 1))/ws
	else
		what="three nodes on one nats-server, node-0 killed (SIGKILL) $KILL_AFTER s after the load starts"
		local dir=$OUT/nats-store
		rm -rf "$dir"
		spawn nats-server "$base" "$NATS_SERVER" -a 127.0.0.1 -p "$base" -js -sd "$dir"
		for i in 0 1 2; do
			local port=$((base + 1 + i))
			spawn "node-$i" "$port" "$BIN/wsgate" --listen "127.0.0.1:$port" --nats "nats://127.0.0.1:$base" \
				--node-id "node-$i" --public-url "http://127.0.0.1:$port" --history-size "$HISTORY" --log-level warn
			[ "$i" -ne 0 ] || victim=$SPID
			urls+="${urls:+,}ws://127.0.0.1:$port/ws"
		done
	fi
	echo "$name: $what" >&2
	taskset -c "$CLIENT_CPU" "$BIN/wsgate" bench fanout --url "$urls" --conns "$CONNS" --rate "$RATE" \
		--drop-every "$EVERY" --drop-for "$FOR" --duration "$DURATION" "${BACKOFF_ARGS[@]}" --quiet >"$report" 2>"$OUT/logs/bench.err" &
	local bench=$! killed=""
	if [ -n "$victim" ]; then
		for _ in $(seq $((KILL_AFTER * 10))); do
			kill -0 "$bench" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$bench" 2>/dev/null; then
			kill -KILL "$victim"
			wait "$victim" 2>/dev/null || true
			killed="node-0 (127.0.0.1:$((base + 1))) killed with SIGKILL after ${KILL_AFTER}s"
			echo "  $killed" >&2
		fi
	fi
	finish_round "$bench" "$report" "$killed" \
		"== $name: $what; $CONNS subscribers, $RATE publications/s, drops of $FOR every $EVERY for $DURATION, backoff max ${BACKOFF_MAX:-default}, history $HISTORY, servers on core $SERVER_CPU, clients on core $CLIENT_CPU, load average before: $load"
}

echo "lossless on $(uname -srm), $(nproc) cores, $(go version | cut -d' ' -f3), wsgate $("$BIN/wsgate" version | cut -d' ' -f2)"
echo
base=9700
for s in "${SCENARIO[@]}"; do
	scenario "$s" "$base"
	base=$((base + 20))
done
