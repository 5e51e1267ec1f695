"""interop.py runs the wsgate interop cases through the Python websockets client.

Usage: /usr/bin/python3 interop.py ws://127.0.0.1:PORT

Written for Debian's python3-websockets (10.4). The server must serve /echo
and /ws and register the call methods test.echo (returns its args) and
test.publish ({"channel","data"} -> server-side Publish, returns {"seq"}).
The first line printed is {"peer":...,"version":...}; then one JSON line per
case: {"case":...,"ok":bool,"detail":...}. The exit status is 1 when any case
failed.
"""

import asyncio
import json
import random
import sys
import time

import websockets

PEER = "python-websockets"
# A hang detector, not a speed check: websockets masks and unmasks in
# Python where its C speedup is missing, and an 8 MiB echo under a busy
# machine (go test -race running beside it) has taken most of 30 s.
CASE_TIMEOUT = 60.0  # seconds
SIZES = [0, 1, 125, 126, 65535, 65536, 8 << 20]
MAX_SIZE = 16 << 20  # the client's own limit on a received message, bytes


class CaseError(Exception):
    """CaseError is a failed expectation; its message is the case's detail."""


DEFLATE_SIZES = [0, 1, 255, 256, 257, 4096, 65536, 1 << 20]


def size_label(n):
    if n == 8 << 20:
        return "8MiB"
    if n == 1 << 20:
        return "1MiB"
    return str(n)


def json_payload(n):
    """The first n bytes of [{"i":0,"symbol":"ACME","price":100},... as the Go cases build it."""
    parts, size, i = ["["], 1, 0
    while size < n:
        s = '{"i":%d,"symbol":"ACME","price":%d},' % (i, 100 + i % 37)
        parts.append(s)
        size += len(s)
        i += 1
    return "".join(parts)[:n]


def text_payload(n):
    """Return exactly n bytes of valid UTF-8 mixing 1- to 4-byte characters."""
    out = bytearray()
    i = 0
    while len(out) < n:
        w = 1 + (i % 4)
        if w > n - len(out):
            w = 1
        if w == 1:
            cp = 0x21 + (i * 7) % 94
        elif w == 2:
            cp = 0x80 + (i * 13) % 0x780
        elif w == 3:
            cp = 0x800 + (i * 17) % (0xD800 - 0x800)
        else:
            cp = 0x10000 + (i * 19) % 0x100000
        out += chr(cp).encode()
        i += 1
    return bytes(out)


def binary_payload(n):
    """Return n pseudo-random bytes, the same for the same n."""
    return random.Random(n).randbytes(n)


def diff_bytes(want, got):
    if want == got:
        return ""
    if len(want) != len(got):
        return f"length: sent {len(want)} bytes, got {len(got)}"
    for i, (a, b) in enumerate(zip(want, got)):
        if a != b:
            return f"first difference at byte {i}: sent {a:#x}, got {b:#x}"
    return ""


def canonical(v):
    return json.dumps(v, sort_keys=True, ensure_ascii=False)


class Peer:
    """Peer is one client connection with a queue of received messages."""

    def __init__(self, ws):
        self.ws = ws
        self.inbox = []

    async def next(self, pred, what):
        """Return and remove the first received message for which pred is true."""
        deadline = time.monotonic() + CASE_TIMEOUT
        while True:
            for i, m in enumerate(self.inbox):
                if pred(m):
                    return self.inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise CaseError(f"timeout waiting for {what}")
            try:
                m = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                raise CaseError(f"timeout waiting for {what}") from None
            except websockets.ConnectionClosed as e:
                raise CaseError(f"connection closed ({e}) waiting for {what}") from None
            self.inbox.append(m)

    async def next_json(self, pred, what):
        m = await self.next(lambda m: isinstance(m, str) and pred(json.loads(m)), what)
        return json.loads(m)

    def queued_json(self):
        return [json.loads(m) for m in self.inbox if isinstance(m, str)]

    async def request(self, msg):
        await self.ws.send(json.dumps(msg))
        reply = await self.next_json(lambda v: v.get("id") == msg["id"], f"reply to id {msg['id']}")
        if "error" in reply:
            raise CaseError(f"id {msg['id']}: error reply {json.dumps(reply['error'])}")
        return reply


class dial:
    """dial is an async context manager yielding a connected Peer."""

    def __init__(self, url, subprotocols=None):
        self.url = url
        self.subprotocols = subprotocols
        self.ws = None

    async def __aenter__(self):
        self.ws = await asyncio.wait_for(
            # compression="deflate" (the library's default, spelled out):
            # permessage-deflate is offered and used both ways.
            websockets.connect(self.url, subprotocols=self.subprotocols, max_size=MAX_SIZE, compression="deflate"),
            CASE_TIMEOUT,
        )
        return Peer(self.ws)

    async def __aexit__(self, *exc):
        self.ws.transport.abort()
        await self.ws.wait_closed()


def kind_of(m):
    return "text" if isinstance(m, str) else "binary"


def echo_case(base, kind, n):
    async def run():
        async with dial(base + "/echo") as p:
            want = text_payload(n) if kind == "text" else binary_payload(n)
            await p.ws.send(want.decode() if kind == "text" else want)
            m = await p.next(lambda m: True, "echo")
            if kind_of(m) != kind:
                raise CaseError(f"sent a {kind} message, got {kind_of(m)}")
            got = m.encode() if kind == "text" else m
            d = diff_bytes(want, got)
            if d:
                raise CaseError(d)
            return f"{n} bytes echoed"

    return run


def fragmented_case(base, kind):
    """Send one message as five frames (websockets sends an iterable so).

    Text fragments are str, so the cuts fall between characters.
    """

    async def run():
        async with dial(base + "/echo") as p:
            if kind == "text":
                whole = text_payload(3001).decode()
                cuts = [0, 1, 3, 400, 900, len(whole)]
            else:
                whole = binary_payload(3001)
                cuts = [0, 1, 7, 1000, 2002, len(whole)]
            parts = [whole[cuts[i] : cuts[i + 1]] for i in range(len(cuts) - 1)]
            await p.ws.send(parts)
            m = await p.next(lambda m: True, "echo")
            if kind_of(m) != kind:
                raise CaseError(f"sent a {kind} message, got {kind_of(m)}")
            if kind == "text":
                d = diff_bytes(whole.encode(), m.encode())
            else:
                d = diff_bytes(whole, m)
            if d:
                raise CaseError(d)
            return f"{len(parts)} fragments, {len(whole)} {'characters' if kind == 'text' else 'bytes'} echoed whole"

    return run


def ping_case(base):
    async def run():
        async with dial(base + "/echo") as p:
            payload = binary_payload(125)
            waiter = await p.ws.ping(payload)
            # websockets resolves the waiter only for a pong with this payload.
            try:
                await asyncio.wait_for(waiter, CASE_TIMEOUT)
            except asyncio.TimeoutError:
                raise CaseError("no pong with the ping's payload") from None
            return "pong carried the 125-byte ping payload"

    return run


def close_case(base, code):
    async def run():
        reason = f"bye {code} \u2713"
        async with dial(base + "/echo") as p:
            await asyncio.wait_for(p.ws.close(code, reason), CASE_TIMEOUT)
            got, got_reason = p.ws.close_code, p.ws.close_reason
            if got != code:
                raise CaseError(f"server closed with {got} {got_reason!r}, want {code}")
            # RFC 6455 (5.5.1) asks for the code to be echoed, not the reason.
            if got_reason == reason:
                return f"server echoed {got} {json.dumps(got_reason, ensure_ascii=False)}"
            return f"server echoed {got} with reason {json.dumps(got_reason, ensure_ascii=False)} (sent {json.dumps(reason, ensure_ascii=False)})"

    return run


def deflate_negotiated_case(base):
    async def run():
        async with dial(base + "/echo") as p:
            exts = [e for e in p.ws.extensions if e.name == "permessage-deflate"]
            if not exts:
                raise CaseError(f"extensions {[e.name for e in p.ws.extensions]}, want permessage-deflate")
            e = exts[0]
            return f"negotiated permessage-deflate, remote_no_context_takeover={e.remote_no_context_takeover} local_no_context_takeover={e.local_no_context_takeover}"

    return run


def deflate_echo_case(base, n):
    async def run():
        async with dial(base + "/echo") as p:
            want = json_payload(n)
            await p.ws.send(want)
            m = await p.next(lambda m: True, "echo")
            if kind_of(m) != "text":
                raise CaseError(f"sent a text message, got {kind_of(m)}")
            d = diff_bytes(want.encode(), m.encode())
            if d:
                raise CaseError(d)
            return f"{n} bytes echoed, extensions {[e.name for e in p.ws.extensions]}"

    return run


def subprotocol_case(base):
    async def run():
        async with dial(base + "/ws", ["wsgate.v1"]) as p:
            if p.ws.subprotocol != "wsgate.v1":
                raise CaseError(f"selected subprotocol {p.ws.subprotocol!r}, want 'wsgate.v1'")
            exts = [e.name for e in p.ws.extensions]
            return f"subprotocol wsgate.v1, extensions {exts}"

    return run


def call_case(base):
    async def run():
        async with dial(base + "/ws", ["wsgate.v1"]) as p:
            args = {"s": "h\u00e9llo \u20ac \U0001F600", "n": 42, "f": 1.5, "a": [1, "two", None], "o": {"k": True}}
            r = await p.request({"id": 1, "call": "test.echo", "args": args})
            if canonical(r.get("result")) != canonical(args):
                raise CaseError(f"result {json.dumps(r.get('result'))}, want {json.dumps(args)}")
            return "test.echo returned its args"

    return run


def check_sub_result(r):
    res = r.get("result")
    if not isinstance(res, dict) or not isinstance(res.get("seq"), int) or not isinstance(res.get("epoch"), str):
        raise CaseError(f"sub result {json.dumps(res)}, want {{\"seq\":number,\"epoch\":string}}")


def sub_publish_case(base):
    async def run():
        async with dial(base + "/ws", ["wsgate.v1"]) as p:
            ch = f"e2e.{PEER}.news"
            sub = await p.request({"id": 1, "sub": ch})
            check_sub_result(sub)
            data = {"x": 1, "peer": PEER, "s": "\u00fc"}
            pub = await p.request({"id": 2, "call": "test.publish", "args": {"channel": ch, "data": data}})
            push = await p.next_json(lambda v: v.get("ch") == ch, f"publication on {ch}")
            seq = pub["result"]["seq"]
            if push.get("seq") != seq:
                raise CaseError(f"push seq {push.get('seq')}, Publish returned {seq}")
            if push["seq"] <= sub["result"]["seq"]:
                raise CaseError(f"push seq {push['seq']} not after sub seq {sub['result']['seq']}")
            if canonical(push.get("data")) != canonical(data):
                raise CaseError(f"push data {json.dumps(push.get('data'))}, want {json.dumps(data)}")
            return f"received server Publish seq {seq}"

    return run


def pub_case(base):
    async def run():
        async with dial(base + "/ws", ["wsgate.v1"]) as a, dial(base + "/ws", ["wsgate.v1"]) as b:
            ch = f"e2e.{PEER}.chat"
            check_sub_result(await a.request({"id": 1, "sub": ch}))
            check_sub_result(await b.request({"id": 1, "sub": ch}))
            data = {"text": "hi from b", "n": [1, 2, 3]}
            pub = await b.request({"id": 2, "pub": ch, "data": data})
            seq = pub.get("result", {}).get("seq")
            if not isinstance(seq, int):
                raise CaseError(f"pub result {json.dumps(pub.get('result'))}, want {{\"seq\":number}}")
            for name, p in (("subscriber", a), ("publisher", b)):
                push = await p.next_json(lambda v: v.get("ch") == ch, f"publication on {ch} at the {name}")
                if push.get("seq") != seq:
                    raise CaseError(f"{name}: push seq {push.get('seq')}, pub returned {seq}")
                if canonical(push.get("data")) != canonical(data):
                    raise CaseError(f"{name}: push data {json.dumps(push.get('data'))}, want {json.dumps(data)}")
            return f"pub seq {seq} reached the subscriber and the publisher"

    return run


def unsub_case(base):
    """After unsub no publication arrives; a second channel marks the end.

    The connection's own publications reach it in order, so a stray
    publication on the first channel would arrive before the marker.
    """

    async def run():
        async with dial(base + "/ws", ["wsgate.v1"]) as p:
            ch = f"e2e.{PEER}.gone"
            marker = f"e2e.{PEER}.marker"
            check_sub_result(await p.request({"id": 1, "sub": ch}))
            un = await p.request({"id": 2, "unsub": ch})
            if un.get("result") != {}:
                raise CaseError(f"unsub result {json.dumps(un.get('result'))}, want {{}}")
            await p.request({"id": 3, "pub": ch, "data": {"after": "unsub"}})
            check_sub_result(await p.request({"id": 4, "sub": marker}))
            await p.request({"id": 5, "pub": marker, "data": {"marker": True}})
            await p.next_json(lambda v: v.get("ch") == marker, f"publication on {marker}")
            stray = [v for v in p.queued_json() if v.get("ch") == ch]
            if stray:
                raise CaseError(f"publication after unsub: {json.dumps(stray[0])}")
            return "no publication after unsub"

    return run


def cases(base):
    out = []
    for kind in ("text", "binary"):
        for n in SIZES:
            out.append((f"echo/{kind}/{size_label(n)}", echo_case(base, kind, n)))
    out.append(("echo/fragmented/text", fragmented_case(base, "text")))
    out.append(("echo/fragmented/binary", fragmented_case(base, "binary")))
    out.append(("ping/payload", ping_case(base)))
    for code in (1000, 1001, 3000, 4999):
        out.append((f"close/{code}", close_case(base, code)))
    out.append(("deflate/negotiated", deflate_negotiated_case(base)))
    for n in DEFLATE_SIZES:
        out.append((f"deflate/json/{size_label(n)}", deflate_echo_case(base, n)))
    out.append(("ws/subprotocol", subprotocol_case(base)))
    out.append(("ws/call", call_case(base)))
    out.append(("ws/sub-publish", sub_publish_case(base)))
    out.append(("ws/pub", pub_case(base)))
    out.append(("ws/unsub", unsub_case(base)))
    return out


async def main(base):
    print(json.dumps({"peer": PEER, "version": f"websockets {websockets.__version__}, python {sys.version.split()[0]}"}), flush=True)
    failed = 0
    for name, run in cases(base.rstrip("/")):
        start = time.monotonic()
        try:
            detail = await asyncio.wait_for(run(), CASE_TIMEOUT)
            ok = True
        except CaseError as e:
            ok, detail = False, str(e)
        except asyncio.TimeoutError:
            ok, detail = False, f"timeout after {CASE_TIMEOUT:g}s"
        except Exception as e:  # a library or connection failure fails the case, not the run
            ok, detail = False, f"{type(e).__name__}: {e}"
        if not ok:
            failed += 1
        ms = round((time.monotonic() - start) * 1000)
        print(json.dumps({"case": name, "ok": ok, "detail": detail, "ms": ms}, ensure_ascii=False), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python3 interop.py ws://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1])))
