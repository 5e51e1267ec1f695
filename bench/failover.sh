#!/usr/bin/env bash
# bench/failover.sh: Go clients moving off a node that dies, then off one
# that drains, across processes.
#
#   bench/failover.sh                 1 round: a kill, then a drain, about 1 minute
#   REPS=3 CONNS=500 bench/failover.sh
#
# Each event gets a fresh cluster: a nats-server (JetStream on) and three
# wsgate --nats nodes, each behind a wsgate delayproxy that adds DELAYS
# (each way) so that the clients agree on a nearest node. Then
# `wsgate bench failover` dials CONNS Go clients (package client,
# default options, the three proxies as seeds), each subscribed to one
# channel, while RATE numbered publications a second go through POST
# /api/publish on a node the clients did not choose (PUBLISHER=api), so
# that the time to each client's first publication after its move is its
# own, or from a Go client of bench's own that moves as they do
# (PUBLISHER=client). Once every client receives them, bench writes the node most
# clients chose; AFTER seconds later the script kills it with SIGKILL
# (round "kill") or sends it SIGTERM, which drains it (round "drain"),
# and bench reports: clients moved, first disconnection to each client's
# new connection and to its first publication there (p50/p99/max),
# publications lost, duplicated or out of order, clients per node before
# and after. For a drain the script also times SIGTERM to the node's exit.
# The servers run on core SERVER_CPU, the clients on CLIENT_CPU.
#
# Environment:
#   REPS               rounds, each a kill and a drain (default 1)
#   CONNS, RATE        clients (1000) and publications per second (100)
#   PUBLISHER          api (default) or client, as above
#   HISTORY            the nodes' --history-size (1000: 10 s at 100/s; a
#                      client away longer than HISTORY/RATE seconds gets a
#                      gap, and bench counts what it missed as lost)
#   DELAYS             proxy delay of each node, each way (5ms 25ms 45ms)
#   AFTER              seconds from "ready" to the event (5)
#   DURATION           bench's longest window (30s); it ends 3 s after
#                      every client that lost its connection resumed
#   OUT                output folder (default bench/out/failover)
#   NATS_SERVER        the nats-server binary (default: from go env
#                      GOPATH/bin, where make deps-nats installs v2.15.3)
#   SERVER_CPU, CLIENT_CPU   cores for the servers and the clients (1 and 0)
#
# Loopback only. The reports go to stdout and to $OUT/<event>-<round>.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
OUT=${OUT:-$ROOT/bench/out/failover}
BIN=$OUT/bin
REPS=${REPS:-1}
CONNS=${CONNS:-1000}
RATE=${RATE:-100}
PUBLISHER=${PUBLISHER:-api}
HISTORY=${HISTORY:-1000}
read -r -a DELAY <<<"${DELAYS:-5ms 25ms 45ms}"
AFTER=${AFTER:-5}
DURATION=${DURATION:-30s}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
NATS_SERVER=${NATS_SERVER:-$(go env GOPATH | cut -d: -f1)/bin/nats-server}

PUB_ARGS=()
case $PUBLISHER in
api) PUB_ARGS=(--api-key bench-failover) ;;
client) ;;
*)
	echo "PUBLISHER wants api or client, not $PUBLISHER" >&2
	exit 2
	;;
esac
if [ "${#DELAY[@]}" -ne 3 ]; then
	echo "DELAYS wants three delays, one per node: \"5ms 25ms 45ms\"" >&2
	exit 2
fi
if ! "$NATS_SERVER" --version >/dev/null 2>&1; then
	echo "no nats-server at $NATS_SERVER: run make deps-nats (it installs v2.15.3), or set NATS_SERVER" >&2
	exit 1
fi
mkdir -p "$BIN" "$OUT/logs"
echo "building wsgate into $BIN" >&2
build_wsgate

trap stop_all EXIT

# cluster BASE: a nats-server on BASE, nodes on BASE+1..3 behind proxies
# on BASE+11..13; sets SEEDS and NODE_PID[<proxy URL>].
declare -A NODE_PID
cluster() {
	local base=$1 dir=$OUT/nats-store
	rm -rf "$dir"
	spawn nats-server "$base" "$NATS_SERVER" -a 127.0.0.1 -p "$base" -js -sd "$dir"
	SEEDS=""
	NODE_PID=()
	for i in 0 1 2; do
		local port=$((base + 1 + i)) pport=$((base + 11 + i))
		local public=http://127.0.0.1:$pport
		spawn "node-$i" "$port" "$BIN/wsgate" --listen "127.0.0.1:$port" --nats "nats://127.0.0.1:$base" \
			--node-id "node-$i" --region "region-$i" --public-url "$public" --api-key bench-failover --history-size "$HISTORY" --log-level warn
		NODE_PID[$public]=$SPID
		spawn "proxy-$i" "$pport" "$BIN/wsgate" delayproxy --listen "127.0.0.1:$pport" --to "127.0.0.1:$port" --delay "${DELAY[$i]}"
		SEEDS+="${SEEDS:+,}$public"
	done
}

# round EVENT REP: a fresh cluster, bench failover, and EVENT (kill or
# drain) on the node most clients chose, AFTER seconds after ready.
round() {
	local event=$1 rep=$2 base=$((9500 + 40 * $2 + ${3:-0}))
	local ready=$OUT/ready report=$OUT/$event-$rep.txt
	rm -f "$ready"
	local load
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "round $rep/$REPS, $event: nats-server and three nodes (proxies ${DELAY[*]} each way)" >&2
	cluster "$base"
	taskset -c "$CLIENT_CPU" "$BIN/wsgate" bench failover --url "$SEEDS" --conns "$CONNS" --rate "$RATE" \
		--duration "$DURATION" --warmup 2s --ready-file "$ready" "${PUB_ARGS[@]}" --quiet >"$report" 2>"$OUT/logs/bench.err" &
	local bench=$!
	for _ in $(seq 600); do
		[ -s "$ready" ] && break
		if ! kill -0 "$bench" 2>/dev/null; then break; fi
		sleep 0.1
	done
	local drained=""
	if [ -s "$ready" ]; then
		local node pid
		node=$(cat "$ready")
		pid=${NODE_PID[$node]:-}
		if [ -z "$pid" ]; then
			echo "bench named $node, not one of the nodes" >&2
			exit 1
		fi
		sleep "$AFTER"
		if [ "$event" = kill ]; then
			echo "  kill -9 the node at $node" >&2
			kill -KILL "$pid"
			wait "$pid" 2>/dev/null || true
		else
			echo "  SIGTERM (drain) to the node at $node" >&2
			local t0 t1
			t0=$(date +%s%N)
			kill -TERM "$pid"
			wait "$pid" 2>/dev/null || true
			t1=$(date +%s%N)
			drained="the node exited $(((t1 - t0) / 1000000)) ms after SIGTERM"
		fi
	fi
	finish_round "$bench" "$report" "$drained" \
		"== $event, round $rep: $CONNS clients, $RATE publications/s ($PUBLISHER publisher), history $HISTORY, proxies ${DELAY[*]} each way, servers on core $SERVER_CPU, clients on core $CLIENT_CPU, load average before: $load"
}

echo "failover on $(uname -srm), $(nproc) cores, $(go version | cut -d' ' -f3), wsgate $("$BIN/wsgate" version | cut -d' ' -f2), $("$NATS_SERVER" --version)"
echo
for rep in $(seq "$REPS"); do
	round kill "$rep" 0
	round drain "$rep" 20
done
