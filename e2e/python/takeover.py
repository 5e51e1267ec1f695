"""takeover.py echoes a stream of similar JSON messages through /echo with
permessage-deflate, for the server's context-takeover mode.

Usage: /usr/bin/python3 takeover.py takeover|stateless ws://127.0.0.1:PORT

The first argument is what the server must answer: "takeover" (it keeps its
compression context: no server_no_context_takeover in its response) or
"stateless". Output follows interop.py: a {"peer","version"} line, then one
{"case","ok","detail","ms"} line per case. Written for Debian's
python3-websockets (10.4), whose client compresses every message it sends.
"""

import asyncio
import json
import sys
import time

import websockets

PEER = "python-websockets"
CASE_TIMEOUT = 30.0  # seconds


class CaseError(Exception):
    """CaseError is a failed expectation; its message is the case's detail."""


def json_payload(n):
    """The first n bytes of [{"i":0,"symbol":"ACME","price":100},... as the Go cases build it."""
    parts, size, i = ["["], 1, 0
    while size < n:
        s = '{"i":%d,"symbol":"ACME","price":%d},' % (i, 100 + i % 37)
        parts.append(s)
        size += len(s)
        i += 1
    return "".join(parts)[:n]


def messages():
    """Ten identical 4 KB documents, then ten that differ in their first bytes."""
    doc = json_payload(4096)
    return [doc] * 10 + ['{"seq":%d,"doc":%s}' % (i, json_payload(4056)) for i in range(10)]


async def echo_case(base, expect):
    ws = await websockets.connect(base + "/echo", max_size=1 << 20, compression="deflate")
    try:
        header = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        takeover = "permessage-deflate" in header and "server_no_context_takeover" not in header
        if takeover != (expect == "takeover"):
            raise CaseError(f"server answered {header!r}, want {expect}")
        exts = [e for e in ws.extensions if e.name == "permessage-deflate"]
        if not exts or exts[0].remote_no_context_takeover == takeover:
            raise CaseError(f"the client's view of the extension does not match {header!r}")
        for msg in messages():
            await ws.send(msg)
            got = await ws.recv()
            if got != msg:
                raise CaseError(f"echo of {len(msg)} bytes came back as {len(got)} different bytes")
        return f"answer {header!r}; 20 echoes of about 4 KB inflated with remote_no_context_takeover={exts[0].remote_no_context_takeover}"
    finally:
        ws.transport.abort()
        await ws.wait_closed()


async def main(expect, base):
    print(json.dumps({"peer": PEER, "version": f"websockets {websockets.__version__}, python {sys.version.split()[0]}"}), flush=True)
    start = time.monotonic()
    try:
        detail = await asyncio.wait_for(echo_case(base.rstrip("/"), expect), CASE_TIMEOUT)
        ok = True
    except CaseError as e:
        ok, detail = False, str(e)
    except asyncio.TimeoutError:
        ok, detail = False, f"timeout after {CASE_TIMEOUT:g}s"
    except Exception as e:  # a library or connection failure fails the case, not the run
        ok, detail = False, f"{type(e).__name__}: {e}"
    ms = round((time.monotonic() - start) * 1000)
    print(json.dumps({"case": "takeover/echo", "ok": ok, "detail": detail, "ms": ms}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("takeover", "stateless"):
        print("usage: python3 takeover.py takeover|stateless ws://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
