// wsgate.js against fake nodes: ones whose /edge/ping answers after a
// chosen delay, to check the choice of a node exactly, and ones that
// misbehave (garbage, replies to nobody, pushes for channels nobody
// holds, duplicates and skipped seqs), which the client must survive
// without delivering any of it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { connect } from '../wsgate.js';
import { recordingWebSocket, waitFor } from '../testutil/helpers.js';

/**
 * A node that answers /edge/ping (after pingDelay ms, with ping), /edge/nodes
 * (nodes(), when given) and /ws, where onRequest answers each request of the
 * client through send.
 * @param {(req: any, send: (v: unknown) => void, raw: (s: string | Buffer) => void, ws: import('ws').WebSocket) => void} onRequest
 * A connection is closed (1011) closeAfter ms after it opens, when given.
 * @param {{ ping?: object, pingDelay?: number, nodes?: () => object[], deflate?: boolean, closeAfter?: number }} [o]
 */
async function fakeNode(onRequest, o = {}) {
  let pings = 0;
  const http = createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    if (req.url === '/edge/ping') {
      pings++;
      setTimeout(() => res.end(JSON.stringify(o.ping || { node: 'fake', region: 'here', conns: 0 })), o.pingDelay || 0);
      return;
    }
    if (req.url === '/edge/nodes' && o.nodes) {
      res.end(JSON.stringify(o.nodes()));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  const wss = new WebSocketServer({ server: http, path: '/ws', perMessageDeflate: o.deflate === true, handleProtocols: (p) => (p.has('wsgate.v1') ? 'wsgate.v1' : false) });
  wss.on('connection', (ws) => {
    if (o.closeAfter !== undefined) setTimeout(() => ws.close(1011, 'flap'), o.closeAfter);
    ws.on('message', (data) => {
      const raw = (/** @type {string | Buffer} */ s) => ws.send(s);
      onRequest(JSON.parse(String(data)), (v) => raw(JSON.stringify(v)), raw, ws);
    });
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', () => r(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (http.address());
  return {
    url: `http://127.0.0.1:${port}`,
    pings: () => pings,
    close: () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      http.closeAllConnections();
      http.close();
    },
  };
}

test('garbage, stray replies and unknown pushes are ignored; duplicates dropped; skipped seqs are a gap', async () => {
  const node = await fakeNode((req, send, raw) => {
    if (req.call === 'x') {
      for (const junk of ['not json', '[1,2]', 'null', '42', '"s"', '{"id":"zz","result":1}', '{"id":999,"result":1}', '{"ch":"nobody","seq":1,"data":1}', '{"ch":"c","seq":"bad"}', '{"ch":"c","seq":-1}', '{"error":{"code":"bad_request"}}', '{']) raw(junk);
      raw(Buffer.from([0xff, 0x00, 0x01])); // a binary frame
      send({ id: req.id, result: { ok: true } });
    } else if (req.call === 'weird-error') {
      send({ id: req.id, error: { code: 7, message: null } });
    } else if (req.sub === 'c') {
      send({ id: req.id, result: { seq: 0, epoch: 'e1' } });
      send({ ch: 'c', seq: 1, data: 'a', epoch: 'e1' });
      send({ ch: 'c', seq: 1, data: 'dup', epoch: 'e1' });
      send({ ch: 'c', seq: 2, data: 'b', epoch: 'e1' });
      send({ ch: 'other', seq: 3, data: 'not subscribed', epoch: 'e1' });
      send({ ch: 'c', seq: 4, data: 'd', epoch: 'e1' }); // 3 skipped: a gap
      send({ ch: 'c', seq: 1, data: 'new epoch', epoch: 'e2' }); // the numbering restarted: a gap
    } else if (req.unsub) {
      send({ id: req.id, result: {} });
    }
  });
  const c = await connect([node.url], { ...recordingWebSocket(), storage: null });
  try {
    assert.deepEqual(await c.call('x'), { ok: true });
    await assert.rejects(c.call('weird-error'), (e) => e.code === '7');
    /** @type {import('../wsgate.js').Message[]} */
    const got = [];
    await c.subscribe('c', (m) => got.push(m));
    await waitFor(() => got.length === 6);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      got.map((m) => [m.kind, m.seq, m.epoch, m.data]),
      [
        ['publication', 1, 'e1', 'a'],
        ['publication', 2, 'e1', 'b'],
        ['gap', 3, 'e1', undefined],
        ['publication', 4, 'e1', 'd'],
        ['gap', 0, 'e2', undefined],
        ['publication', 1, 'e2', 'new epoch'],
      ],
    );
    assert.deepEqual(got[2].last, { seq: 2, epoch: 'e1' });
    assert.deepEqual(got[4].last, { seq: 4, epoch: 'e1' });
    assert.equal(c.url, node.url, 'still on the first connection');
  } finally {
    await c.close();
    node.close();
  }
});

test('a handler that throws does not stop the others or the client', async () => {
  const node = await fakeNode((req, send) => {
    if (req.sub) {
      send({ id: req.id, result: { seq: 0, epoch: 'e' } });
      send({ ch: req.sub, seq: 1, data: 1, epoch: 'e' });
      send({ ch: req.sub, seq: 2, data: 2, epoch: 'e' });
    } else send({ id: req.id, result: 'pong' });
  });
  const c = await connect([node.url], { ...recordingWebSocket(), storage: null });
  const reported = [];
  const saved = globalThis.reportError;
  globalThis.reportError = (e) => reported.push(e);
  try {
    /** @type {number[]} */
    const got = [];
    await c.subscribe('boom', () => {
      throw new Error('handler bug');
    });
    await c.subscribe('fine', (m) => got.push(m.seq));
    await waitFor(() => got.length === 2);
    assert.equal(reported.length, 2);
    assert.equal(await c.call('ping'), 'pong');
  } finally {
    globalThis.reportError = saved;
    await c.close();
    node.close();
  }
});

test('a sub refused at first rejects subscribe with the wire code', async () => {
  const node = await fakeNode((req, send) => send({ id: req.id, error: { code: 'forbidden', message: 'no' } }));
  const c = await connect([node.url], { ...recordingWebSocket(), storage: null });
  try {
    await assert.rejects(c.subscribe('secret', () => {}), (e) => e.code === 'forbidden');
    // Not held: subscribing again is allowed, and refused again.
    await assert.rejects(c.subscribe('secret', () => {}), (e) => e.code === 'forbidden');
  } finally {
    await c.close();
    node.close();
  }
});

test('a connection that falls silent is replaced after an unanswered heartbeat', async () => {
  let mute = false;
  /** @type {any[]} */
  const seen = [];
  const node = await fakeNode((req, send) => {
    seen.push(req);
    if (!mute) send({ id: req.id, result: req.sub ? { seq: 0, epoch: 'e' } : {} });
  });
  /** @type {import('../wsgate.js').StateEvent[]} */
  const states = [];
  const c = await connect([node.url], { ...recordingWebSocket(), storage: null, pingInterval: 200, backoffMin: 50, onState: (e) => states.push(e) });
  try {
    await waitFor(() => seen.some((r) => r.unsub === '_wsgate.heartbeat'), 2000, () => 'a heartbeat');
    assert.equal(states.filter((e) => e.state === 'disconnected').length, 0, 'answered heartbeats keep it');
    mute = true;
    await waitFor(() => states.some((e) => e.state === 'disconnected'), 3000, () => 'the silent connection replaced');
    const d = states.find((e) => e.state === 'disconnected');
    assert.equal(d?.reason, 'no answer to the heartbeat');
    mute = false;
    await waitFor(() => states.filter((e) => e.state === 'connected').length === 2, 3000, () => 'a new connection');
  } finally {
    await c.close();
    node.close();
  }
});

test('backoff: a connection up 2 s starts the count over; one dropped at once keeps it growing', async () => {
  const lo = 200;
  /** @param {number} closeAfter @param {number} n the reconnections to watch */
  async function delays(closeAfter, n) {
    const node = await fakeNode(() => {}, { closeAfter });
    /** @type {import('../wsgate.js').StateEvent[]} */
    const states = [];
    const c = await connect([node.url], { ...recordingWebSocket(), storage: null, backoffMin: lo, onState: (e) => states.push(e) });
    const after = () => states.filter((e, i) => e.state === 'connecting' && i > states.findIndex((e) => e.state === 'disconnected'));
    try {
      await waitFor(() => after().length >= n, 20000, () => `${n} reconnections`);
      return after().slice(0, n).map((e) => /** @type {number} */ (e.delay));
    } finally {
      await c.close();
      node.close();
    }
  }
  const [crashing, flapping] = await Promise.all([delays(100, 4), delays(2500, 3)]);
  crashing.forEach((d, i) => assert.ok(d >= (lo << i) / 2 && d < lo << i, `dropped after 0.1 s: wait ${i + 1} is ${d} ms, want in [${(lo << i) / 2}, ${lo << i})`));
  flapping.forEach((d, i) => assert.ok(d >= lo / 2 && d < lo, `dropped after 2.5 s: wait ${i + 1} is ${d} ms, want in [${lo / 2}, ${lo})`));
});

test('choosing: clearly nearer wins over fewer connections; among equals fewer connections win; never a draining node', async () => {
  const answer = (/** @type {any} */ req, /** @type {(v: unknown) => void} */ send) => send({ id: req.id, result: {} });
  /**
   * Two fake nodes, a (listing both) and b, with their ping delays and
   * what their pings say; resolves with the node a client chooses.
   * @param {number} delayA
   * @param {object} pingA
   * @param {number} delayB
   * @param {object} pingB
   */
  const choice = async (delayA, pingA, delayB, pingB) => {
    const b = await fakeNode(answer, { ping: pingB, pingDelay: delayB });
    const a = await fakeNode(answer, { ping: pingA, pingDelay: delayA, nodes: () => [{ ...pingA, url: a.url }, { ...pingB, url: b.url }] });
    const c = await connect([a.url], { ...recordingWebSocket(), storage: null });
    const chosen = c.url === a.url ? 'a' : 'b';
    assert.deepEqual([a.pings(), b.pings()], [3, 3], 'three probes of each node');
    await c.close();
    a.close();
    b.close();
    return chosen;
  };
  // b is 60 ms nearer (at least 20 ms and 30 %): it wins with more connections.
  assert.equal(await choice(60, { node: 'a', conns: 0 }, 0, { node: 'b', conns: 50 }), 'b');
  // 10 ms apart: equals, and a has fewer connections.
  assert.equal(await choice(10, { node: 'a', conns: 1 }, 0, { node: 'b', conns: 10 }), 'a');
  // b is nearest but draining.
  assert.equal(await choice(60, { node: 'a', conns: 0 }, 0, { node: 'b', conns: 0, draining: true }), 'a');
});

test('client.nodes tells each node timed, nearest first, with its median; client.extensions what the node accepted', async () => {
  const answer = (/** @type {any} */ req, /** @type {(v: unknown) => void} */ send) => send({ id: req.id, result: {} });
  const far = await fakeNode(answer, { ping: { node: 'far', region: 'r-far', conns: 2 }, pingDelay: 80 });
  const near = await fakeNode(answer, {
    ping: { node: 'near', region: 'r-near', conns: 1 },
    deflate: true,
    nodes: () => [
      { node: 'far', region: 'r-far', url: far.url, conns: 2 },
      { node: 'near', region: 'r-near', url: near.url, conns: 1 },
      { node: 'gone', region: 'r-gone', url: 'http://127.0.0.1:1', conns: 0 },
    ],
  });
  const c = await connect([near.url], { ...recordingWebSocket(), storage: null });
  try {
    assert.equal(c.url, near.url);
    const nodes = c.nodes;
    assert.deepEqual(
      nodes.map((n) => [n.node, n.region, n.url, n.conns, n.draining]),
      [
        ['near', 'r-near', near.url, 1, false],
        ['far', 'r-far', far.url, 2, false],
        ['gone', 'r-gone', 'http://127.0.0.1:1', 0, false],
      ],
    );
    assert.ok(nodes[0].rtt >= 0 && nodes[0].rtt < nodes[1].rtt, `near ${nodes[0].rtt} ms, far ${nodes[1].rtt} ms`);
    assert.ok(nodes[1].rtt >= 80, `far answered in ${nodes[1].rtt} ms, after an 80 ms delay`);
    assert.equal(nodes[2].rtt, -1, 'a node that answered no probe');
    nodes[0].rtt = 12345; // a copy
    assert.notEqual(c.nodes[0].rtt, 12345);
    assert.match(c.extensions, /^permessage-deflate/);
  } finally {
    await c.close();
  }
  assert.equal(c.extensions, '', 'no connection, no extensions');
  near.close();
  far.close();
});

test('client.extensions is empty when the node accepted none', async () => {
  const node = await fakeNode((req, send) => send({ id: req.id, result: {} }));
  const c = await connect([node.url], { ...recordingWebSocket(), storage: null });
  try {
    assert.equal(c.extensions, '');
    assert.equal(c.nodes.length, 1);
  } finally {
    await c.close();
    node.close();
  }
});

test('connect: seeds that are not URLs and a missing WebSocket class are TypeErrors', async () => {
  await assert.rejects(connect(['ftp://x'], { ...recordingWebSocket(), storage: null }), TypeError);
  await assert.rejects(connect('not a url', { ...recordingWebSocket(), storage: null }), TypeError);
  await assert.rejects(connect([], { ...recordingWebSocket(), storage: null }), TypeError);
  if (!globalThis.WebSocket) await assert.rejects(connect(['http://127.0.0.1:1'], { storage: null }), TypeError);
});

test('a request a draining node refused (not run) goes again on the next connection', async () => {
  let refused = 0;
  const a = await fakeNode(
    (req, send, _raw, ws) => {
      if (req.call !== 'where') return;
      refused++;
      send({ id: req.id, error: { code: 'unavailable', message: 'node draining: send it to another node' } });
      setTimeout(() => ws.close(1012, 'node draining: reconnect to another node'), 20);
    },
    { ping: { node: 'a', region: 'here', conns: 0 } },
  );
  const b = await fakeNode((req, send) => req.call === 'where' && send({ id: req.id, result: 'b' }), {
    ping: { node: 'b', region: 'here', conns: 0 },
    pingDelay: 60,
  });
  const c = await connect([a.url, b.url], { ...recordingWebSocket(), storage: null });
  try {
    assert.equal(c.url, a.url, 'the nearer node first');
    assert.equal(await c.call('where', null, { timeout: 5000 }), 'b');
    assert.equal(refused, 1);
  } finally {
    c.close();
    a.close();
    b.close();
  }
});
