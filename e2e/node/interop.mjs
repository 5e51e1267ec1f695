// interop.mjs runs the wsgate interop cases through the Node "ws" client.
//
// Usage: node interop.mjs ws://127.0.0.1:PORT
//
// The server must serve /echo and /ws and register the call methods
// test.echo (returns its args) and test.publish ({"channel","data"} →
// server-side Publish, returns {"seq"}). The first line printed is
// {"peer":…,"version":…}; then one JSON line per case:
// {"case":…,"ok":bool,"detail":…}. The exit status is 1 when any case failed.

import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import WebSocket from 'ws';

const require = createRequire(import.meta.url);
const PEER = 'node-ws';
const CASE_TIMEOUT_MS = 30000;
const SIZES = [0, 1, 125, 126, 65535, 65536, 8 << 20];

const DEFLATE_SIZES = [0, 1, 255, 256, 257, 4096, 65536, 1 << 20];

function sizeLabel(n) {
  if (n === 8 << 20) return '8MiB';
  if (n === 1 << 20) return '1MiB';
  return String(n);
}

// jsonPayload returns the first n bytes of
// [{"i":0,"symbol":"ACME","price":100},{"i":1,… as the Go cases build it.
function jsonPayload(n) {
  const parts = ['['];
  let len = 1;
  for (let i = 0; len < n; i++) {
    const s = `{"i":${i},"symbol":"ACME","price":${100 + (i % 37)}},`;
    parts.push(s);
    len += s.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

// textPayload returns exactly n bytes of valid UTF-8, mixing 1-, 2-, 3- and
// 4-byte characters whose values depend on their position.
function textPayload(n) {
  const b = Buffer.alloc(n);
  let o = 0;
  for (let i = 0; o < n; i++) {
    let w = 1 + (i % 4);
    if (w > n - o) w = 1;
    switch (w) {
      case 1:
        b[o++] = 0x21 + ((i * 7) % 94);
        break;
      case 2: {
        const cp = 0x80 + ((i * 13) % 0x780);
        b[o++] = 0xc0 | (cp >> 6);
        b[o++] = 0x80 | (cp & 0x3f);
        break;
      }
      case 3: {
        const cp = 0x800 + ((i * 17) % (0xd800 - 0x800));
        b[o++] = 0xe0 | (cp >> 12);
        b[o++] = 0x80 | ((cp >> 6) & 0x3f);
        b[o++] = 0x80 | (cp & 0x3f);
        break;
      }
      default: {
        const cp = 0x10000 + ((i * 19) % 0x100000);
        b[o++] = 0xf0 | (cp >> 18);
        b[o++] = 0x80 | ((cp >> 12) & 0x3f);
        b[o++] = 0x80 | ((cp >> 6) & 0x3f);
        b[o++] = 0x80 | (cp & 0x3f);
      }
    }
  }
  if (!isUtf8(b)) throw new Error(`textPayload(${n}) is not valid UTF-8`);
  return b;
}

// binaryPayload returns n bytes from xorshift32 seeded with n+1.
function binaryPayload(n) {
  const b = Buffer.alloc(n);
  let x = (n + 1) >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

function diffBytes(want, got) {
  if (want.length !== got.length) return `length: sent ${want.length} bytes, got ${got.length}`;
  for (let i = 0; i < want.length; i++) {
    if (want[i] !== got[i]) return `first difference at byte ${i}: sent 0x${want[i].toString(16)}, got 0x${got[i].toString(16)}`;
  }
  return '';
}

// canonical returns JSON with sorted keys, for comparing decoded values.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// Peer wraps one client connection: it queues every message received so a
// case can wait for the first message that matches a predicate.
class Peer {
  constructor(url, protocols) {
    // Compression is on (RFC 7692): ws offers permessage-deflate and
    // compresses its own messages of 1024 bytes or more.
    this.ws = new WebSocket(url, protocols, { perMessageDeflate: true });
    this.inbox = [];
    this.waiters = [];
    this.closed = null;
    this.ws.on('message', (data, isBinary) => {
      this.inbox.push({ data: Buffer.from(data), isBinary });
      this.wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    this.ws.on('error', (err) => {
      this.error = err;
      this.wake();
    });
  }

  open() {
    return withTimeout(new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    }), CASE_TIMEOUT_MS, 'open');
  }

  wake() {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  // next resolves with the first queued message for which pred is true and
  // removes it from the queue.
  async next(pred, what) {
    const deadline = Date.now() + CASE_TIMEOUT_MS;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (this.error) throw this.error;
      if (this.closed) throw new Error(`connection closed (${this.closed.code} ${this.closed.reason}) waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}`);
      await withTimeout(new Promise((resolve) => this.waiters.push(resolve)), left, what).catch(() => {});
    }
  }

  async nextJSON(pred, what) {
    const m = await this.next((m) => !m.isBinary && pred(JSON.parse(m.data.toString())), what);
    return JSON.parse(m.data.toString());
  }

  async request(msg) {
    this.ws.send(JSON.stringify(msg));
    const reply = await this.nextJSON((v) => v.id === msg.id, `reply to id ${msg.id}`);
    if (reply.error) throw new Error(`id ${msg.id}: error reply ${JSON.stringify(reply.error)}`);
    return reply;
  }

  terminate() {
    this.ws.terminate();
  }
}

async function dial(url, protocols) {
  const p = new Peer(url, protocols);
  try {
    await p.open();
  } catch (err) {
    p.terminate();
    throw err;
  }
  return p;
}

function sendAsync(ws, data, opts) {
  return new Promise((resolve, reject) => ws.send(data, opts, (err) => (err ? reject(err) : resolve())));
}

function echoCase(base, kind, n) {
  return async () => {
    const p = await dial(`${base}/echo`);
    try {
      const text = kind === 'text';
      const want = text ? textPayload(n) : binaryPayload(n);
      await sendAsync(p.ws, want, { binary: !text });
      const m = await p.next(() => true, 'echo');
      if (m.isBinary === text) throw new Error(`sent a ${kind} message, got ${m.isBinary ? 'binary' : 'text'}`);
      const d = diffBytes(want, m.data);
      if (d) throw new Error(d);
      return `${n} bytes echoed`;
    } finally {
      p.terminate();
    }
  };
}

// fragmentedCase sends one message as five frames. For text, the cuts at 7
// and 2002 fall inside multi-byte characters, which RFC 6455 allows.
function fragmentedCase(base, kind) {
  return async () => {
    const p = await dial(`${base}/echo`);
    try {
      const text = kind === 'text';
      const whole = text ? textPayload(3001) : binaryPayload(3001);
      const cuts = [0, 1, 7, 1000, 2002, 3001];
      for (let i = 0; i + 1 < cuts.length; i++) {
        const fin = i + 2 === cuts.length;
        await sendAsync(p.ws, whole.subarray(cuts[i], cuts[i + 1]), { binary: !text, fin, compress: false });
      }
      const m = await p.next(() => true, 'echo');
      if (m.isBinary === text) throw new Error(`sent a ${kind} message, got ${m.isBinary ? 'binary' : 'text'}`);
      const d = diffBytes(whole, m.data);
      if (d) throw new Error(d);
      return `${cuts.length - 1} fragments, ${whole.length} bytes echoed whole`;
    } finally {
      p.terminate();
    }
  };
}

function pingCase(base) {
  return async () => {
    const p = await dial(`${base}/echo`);
    try {
      const payload = binaryPayload(125);
      const pong = withTimeout(new Promise((resolve) => p.ws.once('pong', (d) => resolve(Buffer.from(d)))), CASE_TIMEOUT_MS, 'pong');
      p.ws.ping(payload);
      const got = await pong;
      const d = diffBytes(payload, got);
      if (d) throw new Error(`pong payload: ${d}`);
      return 'pong carried the 125-byte ping payload';
    } finally {
      p.terminate();
    }
  };
}

function closeCase(base, code) {
  return async () => {
    const p = await dial(`${base}/echo`);
    const reason = `bye ${code} ✓`;
    try {
      const closed = withTimeout(new Promise((resolve) => p.ws.once('close', (c, r) => resolve({ code: c, reason: r.toString() }))), CASE_TIMEOUT_MS, 'close');
      p.ws.close(code, reason);
      const got = await closed;
      if (got.code !== code) throw new Error(`server closed with ${got.code} ${JSON.stringify(got.reason)}, want ${code}`);
      // RFC 6455 (5.5.1) asks for the code to be echoed, not the reason.
      if (got.reason === reason) return `server echoed ${got.code} ${JSON.stringify(got.reason)}`;
      return `server echoed ${got.code} with reason ${JSON.stringify(got.reason)} (sent ${JSON.stringify(reason)})`;
    } finally {
      p.terminate();
    }
  };
}

// deflateNegotiatedCase checks that the server accepted permessage-deflate.
function deflateNegotiatedCase(base) {
  return async () => {
    const p = await dial(`${base}/echo`);
    try {
      if (!String(p.ws.extensions).includes('permessage-deflate')) {
        throw new Error(`extensions ${JSON.stringify(p.ws.extensions)}, want permessage-deflate`);
      }
      return `negotiated ${JSON.stringify(p.ws.extensions)}`;
    } finally {
      p.terminate();
    }
  };
}

// deflateEchoCase echoes n bytes of JSON-like text over a compressed connection.
function deflateEchoCase(base, n) {
  return async () => {
    const p = await dial(`${base}/echo`);
    try {
      const want = jsonPayload(n);
      await sendAsync(p.ws, want, { binary: false });
      const m = await p.next(() => true, 'echo');
      if (m.isBinary) throw new Error('sent a text message, got binary');
      const d = diffBytes(want, m.data);
      if (d) throw new Error(d);
      return `${n} bytes echoed, extensions ${JSON.stringify(p.ws.extensions)}`;
    } finally {
      p.terminate();
    }
  };
}

function subprotocolCase(base) {
  return async () => {
    const p = await dial(`${base}/ws`, ['wsgate.v1']);
    try {
      if (p.ws.protocol !== 'wsgate.v1') throw new Error(`selected subprotocol ${JSON.stringify(p.ws.protocol)}, want "wsgate.v1"`);
      return `subprotocol wsgate.v1, extensions ${JSON.stringify(p.ws.extensions)}`;
    } finally {
      p.terminate();
    }
  };
}

function callCase(base) {
  return async () => {
    const p = await dial(`${base}/ws`, ['wsgate.v1']);
    try {
      const args = { s: 'héllo € 😀', n: 42, f: 1.5, a: [1, 'two', null], o: { k: true } };
      const r = await p.request({ id: 1, call: 'test.echo', args });
      if (canonical(r.result) !== canonical(args)) throw new Error(`result ${JSON.stringify(r.result)}, want ${JSON.stringify(args)}`);
      return 'test.echo returned its args';
    } finally {
      p.terminate();
    }
  };
}

function checkSubResult(r) {
  if (typeof r.result?.seq !== 'number' || typeof r.result?.epoch !== 'string') {
    throw new Error(`sub result ${JSON.stringify(r.result)}, want {"seq":number,"epoch":string}`);
  }
}

function subPublishCase(base) {
  return async () => {
    const p = await dial(`${base}/ws`, ['wsgate.v1']);
    try {
      const ch = `e2e.${PEER}.news`;
      const sub = await p.request({ id: 1, sub: ch });
      checkSubResult(sub);
      const data = { x: 1, peer: PEER, s: 'ü' };
      const pub = await p.request({ id: 2, call: 'test.publish', args: { channel: ch, data } });
      const push = await p.nextJSON((v) => v.ch === ch, `publication on ${ch}`);
      if (push.seq !== pub.result.seq) throw new Error(`push seq ${push.seq}, Publish returned ${pub.result.seq}`);
      if (push.seq <= sub.result.seq) throw new Error(`push seq ${push.seq} not after sub seq ${sub.result.seq}`);
      if (canonical(push.data) !== canonical(data)) throw new Error(`push data ${JSON.stringify(push.data)}, want ${JSON.stringify(data)}`);
      return `received server Publish seq ${push.seq}`;
    } finally {
      p.terminate();
    }
  };
}

function pubCase(base) {
  return async () => {
    const a = await dial(`${base}/ws`, ['wsgate.v1']);
    let b;
    try {
      b = await dial(`${base}/ws`, ['wsgate.v1']);
      const ch = `e2e.${PEER}.chat`;
      checkSubResult(await a.request({ id: 1, sub: ch }));
      checkSubResult(await b.request({ id: 1, sub: ch }));
      const data = { text: 'hi from b', n: [1, 2, 3] };
      const pub = await b.request({ id: 2, pub: ch, data });
      if (typeof pub.result?.seq !== 'number') throw new Error(`pub result ${JSON.stringify(pub.result)}, want {"seq":number}`);
      for (const [name, p] of [['subscriber', a], ['publisher', b]]) {
        const push = await p.nextJSON((v) => v.ch === ch, `publication on ${ch} at the ${name}`);
        if (push.seq !== pub.result.seq) throw new Error(`${name}: push seq ${push.seq}, pub returned ${pub.result.seq}`);
        if (canonical(push.data) !== canonical(data)) throw new Error(`${name}: push data ${JSON.stringify(push.data)}, want ${JSON.stringify(data)}`);
      }
      return `pub seq ${pub.result.seq} reached the subscriber and the publisher`;
    } finally {
      a.terminate();
      b?.terminate();
    }
  };
}

// unsubCase checks that no publication arrives after unsub. A second channel
// is used as a marker: the connection's own publications reach it in order,
// so a stray publication on the first channel would arrive before the marker.
function unsubCase(base) {
  return async () => {
    const p = await dial(`${base}/ws`, ['wsgate.v1']);
    try {
      const ch = `e2e.${PEER}.gone`;
      const marker = `e2e.${PEER}.marker`;
      checkSubResult(await p.request({ id: 1, sub: ch }));
      const un = await p.request({ id: 2, unsub: ch });
      if (canonical(un.result) !== '{}') throw new Error(`unsub result ${JSON.stringify(un.result)}, want {}`);
      await p.request({ id: 3, pub: ch, data: { after: 'unsub' } });
      checkSubResult(await p.request({ id: 4, sub: marker }));
      await p.request({ id: 5, pub: marker, data: { marker: true } });
      await p.nextJSON((v) => v.ch === marker, `publication on ${marker}`);
      const stray = p.inbox.find((m) => !m.isBinary && JSON.parse(m.data.toString()).ch === ch);
      if (stray) throw new Error(`publication after unsub: ${stray.data.toString()}`);
      return 'no publication after unsub';
    } finally {
      p.terminate();
    }
  };
}

function cases(base) {
  const list = [];
  for (const kind of ['text', 'binary']) {
    for (const n of SIZES) list.push([`echo/${kind}/${sizeLabel(n)}`, echoCase(base, kind, n)]);
  }
  list.push(['echo/fragmented/text', fragmentedCase(base, 'text')]);
  list.push(['echo/fragmented/binary', fragmentedCase(base, 'binary')]);
  list.push(['ping/payload', pingCase(base)]);
  for (const code of [1000, 1001, 3000, 4999]) list.push([`close/${code}`, closeCase(base, code)]);
  list.push(['deflate/negotiated', deflateNegotiatedCase(base)]);
  for (const n of DEFLATE_SIZES) list.push([`deflate/json/${sizeLabel(n)}`, deflateEchoCase(base, n)]);
  list.push(['ws/subprotocol', subprotocolCase(base)]);
  list.push(['ws/call', callCase(base)]);
  list.push(['ws/sub-publish', subPublishCase(base)]);
  list.push(['ws/pub', pubCase(base)]);
  list.push(['ws/unsub', unsubCase(base)]);
  return list;
}

async function main() {
  const base = process.argv[2];
  if (!base) {
    console.error('usage: node interop.mjs ws://HOST:PORT');
    process.exit(2);
  }
  const version = require('ws/package.json').version;
  console.log(JSON.stringify({ peer: PEER, version: `ws ${version}, node ${process.version}` }));
  let failed = 0;
  for (const [name, run] of cases(base.replace(/\/+$/, ''))) {
    const start = Date.now();
    let line;
    try {
      const detail = await withTimeout(run(), CASE_TIMEOUT_MS, name);
      line = { case: name, ok: true, detail, ms: Date.now() - start };
    } catch (err) {
      failed++;
      line = { case: name, ok: false, detail: String(err?.message ?? err), ms: Date.now() - start };
    }
    console.log(JSON.stringify(line));
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
