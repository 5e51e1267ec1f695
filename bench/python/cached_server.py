"""The textbook cached WebSocket server: Python asyncio + websockets, a dict cache.

It speaks the call part of wsgate's /ws envelope ({"id","call","args"} ->
{"id","result"} or {"id","error"}) with the demo's market.history, so
`wsgate bench call` can load it and wsgate side by side (bench/run-call.sh).

Usage: /usr/bin/python3 cached_server.py PORT   (Debian's python3-websockets)
"""
import asyncio
import json
import math
import random
import sys

import websockets

cache = {}


def history(symbol, points):
    # Deterministic prices, as the demo's; computed once per args, then cached.
    rnd = random.Random(symbol)
    price, out = 100.0, []
    for i in range(points):
        o = price
        for _ in range(200):
            price *= math.exp(rnd.gauss(0, 0.0005))
        out.append({"t": 1704205800 + 60 * i, "o": round(o, 2), "h": round(max(o, price), 2),
                    "l": round(min(o, price), 2), "c": round(price, 2), "v": rnd.randrange(1000, 9000)})
    return {"symbol": symbol, "points": out}


async def serve(ws, path=None):
    try:
        await answer(ws)
    except websockets.ConnectionClosed:
        pass  # the load tool closes with replies still in flight


async def answer(ws):
    async for message in ws:
        req = json.loads(message)
        rid, method, args = req.get("id"), req.get("call"), req.get("args") or {}
        if method != "market.history":
            await ws.send(json.dumps({"id": rid, "error": {"code": "not_found", "message": "no method"}}))
            continue
        key = (method, json.dumps(args, sort_keys=True))
        if key not in cache:
            cache[key] = history(args.get("symbol", "ACME"), int(args.get("points", 500)))
        await ws.send(json.dumps({"id": rid, "result": cache[key]}))


async def main(port):
    async with websockets.serve(serve, "127.0.0.1", port, compression=None, max_size=2**24):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
