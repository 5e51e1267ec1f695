"""Turns bench/cache.sh's results.jsonl into markdown tables of medians.

Usage: python3 cache_table.py results.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict


def load(path):
    runs = defaultdict(list)  # (server, scenario, row) -> [result]
    order = []
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            key = (rec["server"], rec["scenario"], rec["row"])
            if key not in runs:
                order.append(key)
            if rec["result"] and not rec["error"]:
                runs[key].append(rec["result"])
    return runs, order


def med(results, get):
    vals = [v for v in (get(r) for r in results) if v is not None]
    return statistics.median(vals) if vals else None


def rate(rs):
    return med(rs, lambda r: r.get("msgs_per_s"))


def p99(rs, field="latency_us"):
    return med(rs, lambda r: (r.get(field) or {}).get("p99"))


def p50(rs):
    return med(rs, lambda r: (r.get("latency_us") or {}).get("p50"))


def cpu(rs):
    return med(rs, lambda r: (r.get("server") or {}).get("cpu_us_per_msg"))


def hit_ratio(rs):
    return med(rs, lambda r: (r.get("cache") or {}).get("hit_ratio"))


def n(v):
    return "–" if v is None else f"{v:,.0f}"


def us(v):
    if v is None:
        return "–"
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs"


def cpu_us(v):
    return "–" if v is None else f"{v:.2f} µs"


def ratio(a, b):
    return "–" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


def main(path):
    runs, order = load(path)
    rows = lambda server, scenario: [k[2] for k in order if k[0] == server and k[1] == scenario]

    print("**Cached call vs echo** (wsgate, same reply size; ratios: call ÷ echo for msgs/s, echo ÷ call for CPU)\n")
    print("| reply | echo msgs/s | call msgs/s | ratio | echo p99 | call p99 | echo CPU/msg | call CPU/msg | ratio |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for row in rows("wsgate", "call vs echo"):
        if not row.endswith(", echo"):
            continue
        base = row[: -len(", echo")]
        e, c = runs[("wsgate", "call vs echo", row)], runs[("wsgate", "call vs echo", base + ", cached call")]
        print(f"| {base} | {n(rate(e))} | {n(rate(c))} | {ratio(rate(c), rate(e))} | {us(p99(e))} | {us(p99(c))} "
              f"| {cpu_us(cpu(e))} | {cpu_us(cpu(c))} | {ratio(cpu(e), cpu(c))} |")

    print("\n**wsgate vs Python asyncio + websockets + dict** (market.history hits; ratios: wsgate ÷ Python for calls/s, Python ÷ wsgate for CPU)\n")
    print("| history | wsgate calls/s | Python calls/s | ratio | wsgate p99 | Python p99 | wsgate CPU/call | Python CPU/call | ratio |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for row in rows("wsgate", "python"):
        w, p = runs[("wsgate", "python", row)], runs[("python", "python", row)]
        print(f"| {row} | {n(rate(w))} | {n(rate(p))} | {ratio(rate(w), rate(p))} | {us(p99(w))} | {us(p99(p))} "
              f"| {cpu_us(cpu(w))} | {cpu_us(cpu(p))} | {ratio(cpu(p), cpu(w))} |")

    print("\n**market.history at a hit mix** (wsgate, closed loop; miss ratio 1: every call runs the demo)\n")
    print("| load, history, miss ratio | calls/s | p50 | p99 | p99 of hits | server hit ratio | server CPU/call |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for row in rows("wsgate", "hit mix"):
        r = runs[("wsgate", "hit mix", row)]
        hr = hit_ratio(r)
        hit_p99 = p99(r, "hit_latency_us")
        print(f"| {row} | {n(rate(r))} | {us(p50(r))} | {us(p99(r))} | {us(hit_p99)} "
              f"| {'–' if hr is None else f'{100 * hr:.1f} %'} | {cpu_us(cpu(r))} |")

    base_keys = [k for k in order if k[0] == "wsgate-base"]
    if base_keys:
        print("\n**wsgate beside wsgate-base** (the revision given as BASE, same scenarios and rounds; "
              "ratios: wsgate ÷ base for msgs/s, base ÷ wsgate for CPU)\n")
        print("| scenario, row | wsgate msgs/s | base msgs/s | ratio | wsgate p99 | base p99 | wsgate CPU/msg | base CPU/msg | ratio |")
        print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
        for _, scenario, row in base_keys:
            w, b = runs[("wsgate", scenario, row)], runs[("wsgate-base", scenario, row)]
            print(f"| {scenario}: {row} | {n(rate(w))} | {n(rate(b))} | {ratio(rate(w), rate(b))} | {us(p99(w))} | {us(p99(b))} "
                  f"| {cpu_us(cpu(w))} | {cpu_us(cpu(b))} | {ratio(cpu(b), cpu(w))} |")


if __name__ == "__main__":
    main(sys.argv[1])
