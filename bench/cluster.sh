#!/usr/bin/env bash
# bench/cluster.sh: fan-out across nodes, next to the same load on one.
#
#   bench/cluster.sh              3 rounds, about 6 minutes
#   REPS=1 SUBS=1000 bench/cluster.sh   a quick look
#
# One publication of SIZE bytes per second (RATE) on one channel to SUBS
# subscribers, in three setups, each round with fresh processes:
#   one node            one wsgate, in-memory broker
#   one node, NATS      one wsgate on a nats-server (JetStream on)
#   three nodes, NATS   three wsgate on one nats-server; the subscribers
#                       spread over them in turn, the publisher on the first
# The table shows, as medians over the rounds, the delivery latency
# (publish to the subscriber's read, wsgate bench's clock) and each
# node's CPU time per delivery it made (its share of the subscribers).
# wsgate nodes and nats-server run on core $SERVER_CPU, the load on
# $CLIENT_CPU.
#
# Environment:
#   REPS                     rounds (default 3)
#   SUBS, RATE, SIZE         subscribers (10000), publications/s (1), bytes (1000)
#   DURATION, WARMUP         measured window and warmup per run (30s, 3s)
#   OUT                      output folder (default bench/out/cluster)
#   NATS_SERVER              the nats-server binary (default: from go env
#                            GOPATH/bin, where make deps installs v2.15.3)
#   SERVER_CPU, CLIENT_CPU   cores for the servers and the load (1 and 0)
#
# Loopback only; every run is bounded by wsgate bench's --duration.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
OUT=${OUT:-$ROOT/bench/out/cluster}
BIN=$OUT/bin
REPS=${REPS:-3}
SUBS=${SUBS:-10000}
RATE=${RATE:-1}
SIZE=${SIZE:-1000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
NATS_SERVER=${NATS_SERVER:-$(go env GOPATH | cut -d: -f1)/bin/nats-server}
TIME=(--duration "${DURATION:-30s}" --warmup "${WARMUP:-3s}")

if ! "$NATS_SERVER" --version >/dev/null 2>&1; then
	echo "no nats-server at $NATS_SERVER: run make deps (it installs v2.15.3), or set NATS_SERVER" >&2
	exit 1
fi
mkdir -p "$BIN" "$OUT/logs"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
echo "building wsgate into $BIN" >&2
build_wsgate

PIDS=()
stop_all() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
}
trap stop_all EXIT

# start NAME PORT ARGS...: a wsgate node on 127.0.0.1:PORT, pinned to
# SERVER_CPU; sets SPID.
start() {
	local name=$1 port=$2 log=$OUT/logs/$1.log
	shift 2
	taskset -c "$SERVER_CPU" "$BIN/wsgate" --listen "127.0.0.1:$port" --node-id "$name" --log-level warn --shutdown-grace 2s "$@" >>"$log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	PORT=$port
	wait_listening "$name" "$log"
}

# start_nats PORT: a nats-server with JetStream in a fresh folder.
start_nats() {
	local dir=$OUT/nats-store
	rm -rf "$dir"
	taskset -c "$SERVER_CPU" "$NATS_SERVER" -a 127.0.0.1 -p "$1" -js -sd "$dir" >>"$OUT/logs/nats.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	PORT=$1
	wait_listening nats-server "$OUT/logs/nats.log"
}

# run SETUP REP URLS PIDS: one fanout run, appended to results.jsonl.
run() {
	local setup=$1 rep=$2 urls=$3 pids=$4 out err=""
	if ! out=$(taskset -c "$CLIENT_CPU" "$BIN/wsgate" bench fanout --url "$urls" --server-pid "$pids" \
		--conns "$SUBS" --rate "$RATE" --size "$SIZE" --channel cluster "${TIME[@]}" --json --quiet 2>"$OUT/last.err"); then
		err=$(tr -d '\000-\037"\\' <"$OUT/last.err" | tail -c 300)
		[ -n "$err" ] || err="failed"
		echo "  $setup / run $rep: $err" >&2
	fi
	[ -n "$out" ] || out=null
	printf '{"setup":"%s","rep":%d,"error":"%s","result":%s}\n' "$setup" "$rep" "$err" "$out" >>"$RESULTS"
}

START=$(date +%s)
for rep in $(seq "$REPS"); do
	base=$((9400 + 20 * rep))
	echo "round $rep/$REPS: one node" >&2
	start one $base
	run "one node" "$rep" "ws://127.0.0.1:$base/ws" "$SPID"
	stop_all

	echo "round $rep/$REPS: one node, NATS" >&2
	start_nats $((base + 1))
	nats=nats://127.0.0.1:$((base + 1))
	start one-nats $((base + 2)) --nats "$nats"
	run "one node, NATS" "$rep" "ws://127.0.0.1:$((base + 2))/ws" "$SPID"
	stop_all

	echo "round $rep/$REPS: three nodes, NATS" >&2
	start_nats $((base + 3))
	nats=nats://127.0.0.1:$((base + 3))
	urls="" pids=""
	for i in 0 1 2; do
		start "node-$i" $((base + 4 + i)) --nats "$nats" --region "region-$i"
		urls+="${urls:+,}ws://127.0.0.1:$((base + 4 + i))/ws"
		pids+="${pids:+,}$SPID"
	done
	run "three nodes, NATS" "$rep" "$urls" "$pids"
	stop_all
done
END=$(date +%s)

{
	echo "fan-out across nodes on $(uname -srm), $(go version | cut -d' ' -f3), wsgate $("$BIN/wsgate" version | cut -d' ' -f2), $("$NATS_SERVER" --version)"
	echo "$SUBS subscribers, $RATE publication(s)/s of $SIZE B, ${DURATION:-30s} measured per run; servers on core $SERVER_CPU, load on core $CLIENT_CPU; $REPS rounds; $((END - START)) s"
	echo
	python3 - "$RESULTS" <<'EOF'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["setup"], []).append(r)
med = lambda xs: statistics.median(xs) if xs else float("nan")
print("| setup | deliveries/s | p50 | p99 | CPU per delivery, each node | errors |")
print("|---|---|---|---|---|---|")
for setup, runs in rows.items():
    ok = [r["result"] for r in runs if r["result"] and not r["error"]]
    lat = [x["latency_us"] for x in ok if x.get("latency_us")]
    servers = [x.get("servers") or [x["server"]] for x in ok if x.get("server")]
    per_node = []
    for i in range(max((len(s) for s in servers), default=0)):
        per_node.append(med([s[i].get("cpu_us_per_msg", 0) for s in servers if len(s) > i]))
    print("| %s | %s | %.1f ms | %.1f ms | %s | %d of %d runs |" % (
        setup,
        "{:,.0f}".format(med([x["msgs_per_s"] for x in ok])),
        med([l["p50"] for l in lat]) / 1000, med([l["p99"] for l in lat]) / 1000,
        ", ".join("%.2f µs" % c for c in per_node),
        len(runs) - len(ok), len(runs)))
EOF
} | tee "$OUT/table.md"
