// wsgate.js against one real wsgate node: calls, subscriptions, resume
// after a cut connection, reconnection after a restart.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, WsgateError } from '../wsgate.js';
import { startNode, recordingWebSocket, memoryStorage, waitFor } from '../testutil/helpers.js';

/** @type {import('node:http').Server} */
let backend;
/** @type {Awaited<ReturnType<typeof startNode>>} */
let node;

before(async () => {
  // The backend of calls: echo sends the args back, slow answers after
  // 300 ms, anything else is 404 (not_found).
  backend = createServer((req, res) => {
    let body = '';
    req.on('data', (b) => (body += b));
    req.on('end', () => {
      const reply = () => {
        res.setHeader('Content-Type', 'application/json');
        res.end(body || 'null');
      };
      if (req.url === '/echo') reply();
      else if (req.url === '/slow') setTimeout(reply, 300);
      else {
        res.statusCode = 404;
        res.end('{"error":"no such method"}');
      }
    });
  });
  await new Promise((r) => backend.listen(0, '127.0.0.1', () => r(undefined)));
  const addr = /** @type {import('node:net').AddressInfo} */ (backend.address());
  node = await startNode({ args: ['--backend', `http://127.0.0.1:${addr.port}`] });
});

after(async () => {
  await node.stop();
  backend.closeAllConnections();
  backend.close();
});

/** Options for a test client: the ws package, quick backoff, no storage. */
function opts(extra = {}) {
  return { ...recordingWebSocket(), storage: null, backoffMin: 100, backoffMax: 1000, ...extra };
}

/**
 * A subscription handler that records what it gets.
 * @returns {{ fn: (m: import('../wsgate.js').Message) => void, got: import('../wsgate.js').Message[], seqs: () => number[] }}
 */
function recorder() {
  /** @type {import('../wsgate.js').Message[]} */
  const got = [];
  return { fn: (m) => got.push(m), got, seqs: () => got.filter((m) => m.kind === 'publication').map((m) => m.seq) };
}

test('call: result, wire error code, timeout, compression negotiated, node remembered', async () => {
  const o = opts({ storage: memoryStorage() });
  const states = [];
  const c = await connect([node.url], { ...o, onState: (e) => states.push(e) });
  try {
    assert.deepEqual(await c.call('echo', { symbol: 'ACME', n: [1, 2] }), { symbol: 'ACME', n: [1, 2] });
    await assert.rejects(c.call('missing', {}), (e) => e instanceof WsgateError && e.code === 'not_found');
    await assert.rejects(c.call('slow', {}, { timeout: 50 }), (e) => e instanceof WsgateError && e.code === 'timeout');
    assert.deepEqual(await c.call('slow', { ok: 1 }, { timeout: 5000 }), { ok: 1 });
    const ctl = new AbortController();
    const aborted = c.call('slow', {}, { signal: ctl.signal });
    ctl.abort();
    await assert.rejects(aborted, (e) => e instanceof WsgateError && e.code === 'aborted');

    assert.match(o.sockets[0].extensions, /permessage-deflate/);
    assert.equal(o.sockets[0].protocol, 'wsgate.v1');
    assert.deepEqual(states.map((e) => e.state), ['connecting', 'connected']);
    assert.equal(states[1].url, node.url);
    assert.ok(states[1].node, 'connected event names the node');
    assert.equal(c.url, node.url);
    assert.deepEqual([...o.storage.map.values()], [node.url]);
  } finally {
    await c.close();
  }
  assert.equal(states.at(-1).state, 'closed');
  await assert.rejects(c.call('echo', 1), (e) => e.code === 'closed');
});

test('subscribe and publish: each publication once, in order, with seq and epoch', async () => {
  const sub = await connect([node.url], opts());
  const pub = await connect([node.url], opts());
  try {
    const r = recorder();
    const s = await sub.subscribe('sp', r.fn);
    await assert.rejects(sub.subscribe('sp', () => {}), (e) => e.code === 'subscribed');
    const answers = [];
    for (let i = 1; i <= 5; i++) {
      const p = await pub.publish('sp', { i });
      assert.equal(p.seq, i);
      answers.push(p);
    }
    await waitFor(() => r.got.length === 5);
    assert.deepEqual(r.seqs(), [1, 2, 3, 4, 5]);
    assert.deepEqual(r.got.map((m) => m.data), [1, 2, 3, 4, 5].map((i) => ({ i })));
    const epoch = r.got[0].epoch;
    assert.ok(epoch, 'publications carry the epoch');
    assert.deepEqual(s.position, { seq: 5, epoch });
    assert.ok(answers.every((p) => p.epoch === epoch), 'publish answers the epoch its publication got');

    await s.unsubscribe();
    await pub.publish('sp', { i: 6 });
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(r.got.length, 5, 'nothing after unsubscribe');

    // A new subscription from a kept position gets what it missed.
    const r2 = recorder();
    await sub.subscribe('sp', r2.fn, { since: { seq: 3, epoch } });
    await waitFor(() => r2.got.length === 3);
    assert.deepEqual(r2.seqs(), [4, 5, 6]);
  } finally {
    await sub.close();
    await pub.close();
  }
});

test('a cut connection: reconnects with backoff and resumes with since, nothing lost or repeated', async () => {
  const o = opts();
  /** @type {import('../wsgate.js').StateEvent[]} */
  const states = [];
  const sub = await connect([node.url], { ...o, onState: (e) => states.push(e) });
  const pub = await connect([node.url], opts());
  try {
    const r = recorder();
    await sub.subscribe('cut', r.fn);
    for (let i = 1; i <= 3; i++) await pub.publish('cut', i);
    await waitFor(() => r.got.length === 3);

    o.sockets[0].terminate(); // the TCP connection dies, no Close frame
    for (let i = 4; i <= 8; i++) await pub.publish('cut', i); // some while sub is away
    await waitFor(() => o.sockets.length === 2 && o.sockets[1].readyState === 1);
    for (let i = 9; i <= 10; i++) await pub.publish('cut', i);
    await waitFor(() => r.got.length >= 10);
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(r.seqs(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(!r.got.some((m) => m.kind !== 'publication'), 'no gap');

    const after = states.slice(2).map((e) => e.state);
    assert.deepEqual(after, ['disconnected', 'connecting', 'connected']);
    assert.equal(states[2].code, 1006);
    const delay = states[3].delay ?? -1;
    assert.ok(delay >= 50 && delay <= 100, `first backoff ${delay} ms within [50, 100]`);
  } finally {
    await sub.close();
    await pub.close();
  }
});

test('server restart: backoff grows while it is down, then a gap for the new epoch', async () => {
  const n = await startNode();
  /** @type {import('../wsgate.js').StateEvent[]} */
  const states = [];
  const sub = await connect([n.url], { ...opts({ backoffMin: 100, backoffMax: 400, probeTimeout: 300 }), onState: (e) => states.push(e) });
  let n2;
  try {
    const r = recorder();
    await sub.subscribe('restart', r.fn);
    for (let i = 1; i <= 3; i++) await sub.publish('restart', i);
    await waitFor(() => r.got.length === 3);
    const oldEpoch = r.got[0].epoch;

    // A call made while the node is down waits for the next connection.
    await n.stop('SIGKILL');
    await waitFor(() => states.filter((e) => e.state === 'connecting').length >= 5, 8000, () => 'five reconnection attempts');
    const pending = sub.call('market.symbols', undefined, { timeout: 10000 });
    n2 = await startNode({ port: n.port });
    await waitFor(() => sub.url === n.url, 8000, () => 'the reconnection');
    await pending;

    const attempts = states.filter((e) => e.state === 'connecting').slice(1); // after the first connection
    attempts.forEach((e, i) => {
      const d = Math.min(100 * 2 ** i, 400);
      assert.ok(e.delay >= d / 2 && e.delay <= d, `attempt ${e.attempt}: delay ${e.delay} within [${d / 2}, ${d}]`);
      assert.equal(e.attempt, i + 1);
    });

    await sub.publish('restart', 'new');
    await waitFor(() => r.got.length === 5);
    const [gap, pubd] = r.got.slice(3);
    assert.equal(gap.kind, 'gap');
    assert.deepEqual(gap.last, { seq: 3, epoch: oldEpoch });
    assert.notEqual(gap.epoch, oldEpoch);
    assert.equal(pubd.kind, 'publication');
    assert.equal(pubd.seq, 1);
    assert.equal(pubd.data, 'new');
  } finally {
    await sub.close();
    await n2?.stop();
  }
});

test('backoff per round: the second node of a round is tried at once after the first failed', async () => {
  const a = await startNode();
  const b = await startNode();
  /** @type {import('../wsgate.js').StateEvent[]} */
  const states = [];
  const sub = await connect([a.url, b.url], { ...opts({ backoffMin: 100, backoffMax: 400, probeTimeout: 300 }), onState: (e) => states.push(e) });
  let back;
  try {
    const first = sub.url;
    const [down, other] = first === a.url ? [a, b] : [b, a];
    await other.stop('SIGKILL');
    await down.stop('SIGKILL');
    await waitFor(() => states.filter((e) => e.state === 'connecting').length >= 7, 8000, () => 'three rounds of attempts');
    back = await startNode({ port: other.port });
    await waitFor(() => sub.url === other.url, 8000, () => 'the reconnection');
    const attempts = states.filter((e) => e.state === 'connecting').slice(1, 7); // after the first connection: 3 rounds
    attempts.forEach((e, i) => {
      const round = Math.floor(i / 2);
      if (i % 2 === 1) {
        assert.equal(e.delay, 0, `attempt ${e.attempt}, the second of round ${round + 1}: no wait`);
        return;
      }
      const d = Math.min(100 * 2 ** round, 400);
      assert.ok(e.delay >= d / 2 && e.delay <= d, `attempt ${e.attempt}, the first of round ${round + 1}: delay ${e.delay} within [${d / 2}, ${d}]`);
    });
  } finally {
    await sub.close();
    await back?.stop();
  }
});

test('connect rejects with no_node when no seed answers', async () => {
  const n = await startNode();
  await n.stop();
  await assert.rejects(connect([n.url], opts({ probeTimeout: 300 })), (e) => e instanceof WsgateError && e.code === 'no_node');
});
