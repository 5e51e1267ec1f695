// wsgate.js across several real wsgate nodes: the nearest is chosen, a
// draining node is left at once (1012), and on NATS a dead node's
// subscribers resume on another with nothing lost or repeated.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../wsgate.js';
import { startNode, startProxy, startNATS, natsServerBin, recordingWebSocket, memoryStorage, waitFor, freePort } from '../testutil/helpers.js';

/** @param {object} [extra] */
function opts(extra = {}) {
  return { ...recordingWebSocket(), storage: null, backoffMin: 100, backoffMax: 1000, ...extra };
}

test('selection: the node with the lower round trip wins, even over the one remembered', async () => {
  // far: a node 40 ms away each way, behind a delay proxy that is its
  // public URL; near: one on loopback. Each lists only itself.
  const proxyPort = await freePort();
  const far = await startNode({ args: ['--node-id', 'far', '--region', 'r-far', '--public-url', `http://127.0.0.1:${proxyPort}`] });
  const proxy = await startProxy(far.port, 40, proxyPort);
  const near = await startNode({ args: ['--node-id', 'near', '--region', 'r-near'] });
  const storage = memoryStorage();
  const seeds = [proxy.url, near.url];
  storage.setItem('wsgate.node ' + seeds.join(' '), proxy.url); // last time it was on far
  /** @type {import('../wsgate.js').StateEvent[]} */
  const states = [];
  const c = await connect(seeds, { ...opts({ storage }), onState: (e) => states.push(e) });
  try {
    assert.equal(c.url, near.url);
    const connected = states.find((e) => e.state === 'connected');
    assert.deepEqual([connected?.node, connected?.region], ['near', 'r-near']);
    assert.equal(storage.getItem('wsgate.node ' + seeds.join(' ')), near.url);
  } finally {
    await c.close();
    proxy.stop();
    await far.stop();
    await near.stop();
  }
});

test('a remembered node stays chosen when the best is not clearly nearer', async () => {
  const a = await startNode({ args: ['--node-id', 'a'] });
  const b = await startNode({ args: ['--node-id', 'b'] });
  const seeds = [a.url, b.url];
  try {
    for (const saved of seeds) {
      const storage = memoryStorage();
      storage.setItem('wsgate.node ' + seeds.join(' '), saved);
      const c = await connect(seeds, opts({ storage }));
      assert.equal(c.url, saved);
      await c.close();
    }
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('drain: 1012 moves to the other node at once, without a backoff', async () => {
  const a = await startNode({ args: ['--node-id', 'a'] });
  const b = await startNode({ args: ['--node-id', 'b'] });
  /** @type {import('../wsgate.js').StateEvent[]} */
  const states = [];
  // A backoff of 5 s or more would show in the time taken.
  const c = await connect([a.url, b.url], { ...opts({ backoffMin: 10000, backoffMax: 20000 }), onState: (e) => states.push(e) });
  try {
    const first = c.url;
    const [gone, other] = first === a.url ? [a, b] : [b, a];
    const t0 = Date.now();
    const stopped = gone.stop('SIGTERM');
    await waitFor(() => c.url === other.url, 3000, () => `the move to ${other.url}`);
    const took = Date.now() - t0;
    const tail = states.slice(2);
    assert.deepEqual(tail.map((e) => e.state), ['disconnected', 'connecting', 'connected']);
    assert.equal(tail[0].code, 1012);
    assert.equal(tail[1].delay, 0);
    assert.ok(took < 2000, `moved in ${took} ms`);
    assert.ok(Array.isArray(await c.call('market.symbols')));
    await stopped;
  } finally {
    await c.close();
    await a.stop();
    await b.stop();
  }
});

const nats = natsServerBin();

test('failover on NATS: the chosen node dies, the client resumes on the other, nothing lost or repeated', { skip: nats ? false : 'no nats-server: set NATS_SERVER or run make deps-nats' }, async () => {
  const natsURL = await startNATS();
  const key = 'k';
  const n1 = await startNode({ args: ['--nats', natsURL, '--node-id', 'n1', '--api-key', key] });
  const n2 = await startNode({ args: ['--nats', natsURL, '--node-id', 'n2', '--api-key', key] });
  await waitFor(async () => (await (await fetch(n1.url + '/edge/nodes')).json()).length === 2, 10000, () => 'both nodes listed');
  /** @type {import('../wsgate.js').StateEvent[]} */
  const states = [];
  const c = await connect([n1.url], { ...opts(), onState: (e) => states.push(e) });
  try {
    const [dead, alive] = c.url === n1.url ? [n1, n2] : [n2, n1];
    /** @param {number} i */
    const publish = async (i) => {
      const res = await fetch(alive.url + '/api/publish', {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + key, 'Content-Type': 'application/json' },
        body: JSON.stringify({ channel: 'fo', data: i }),
      });
      assert.equal(res.status, 200, await res.clone().text());
    };
    /** @type {import('../wsgate.js').Message[]} */
    const got = [];
    await c.subscribe('fo', (m) => got.push(m));
    for (let i = 1; i <= 5; i++) await publish(i);
    await waitFor(() => got.length === 5);

    await dead.stop('SIGKILL');
    for (let i = 6; i <= 15; i++) await publish(i);
    await waitFor(() => got.length >= 15, 10000, () => `15 publications, got ${got.length}`);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.url, alive.url);
    assert.deepEqual(got.map((m) => [m.kind, m.seq, m.data]), Array.from({ length: 15 }, (_, i) => ['publication', i + 1, i + 1]));
    assert.ok(states.some((e) => e.state === 'disconnected'));
  } finally {
    await c.close();
    await n1.stop();
    await n2.stop();
  }
});

test('re-probe: moves to a node that became clearly nearer, without a disconnection; equal nodes do not flap', async () => {
  const farPort = await freePort();
  const nearPort = await freePort();
  const far = await startNode({ args: ['--node-id', 'far', '--public-url', `http://127.0.0.1:${farPort}`] });
  const proxy = await startProxy(far.port, 30, farPort);
  /** @type {import('../wsgate.js').StateEvent[]} */
  const states = [];
  const o = opts({ reprobeInterval: 200 });
  // near is down at first: the client takes far.
  const c = await connect([proxy.url, `http://127.0.0.1:${nearPort}`], { ...o, onState: (e) => states.push(e) });
  if (c.url !== proxy.url) {
    // Checked before near starts: once it does, a re-probe may move c at any moment.
    await c.close();
    proxy.stop();
    await far.stop();
    assert.fail(`connected to ${c.url}, want the far node through ${proxy.url}`);
  }
  const near = await startNode({ port: nearPort, args: ['--node-id', 'near'] });
  const a = await startNode({ args: ['--node-id', 'a'] });
  const b = await startNode({ args: ['--node-id', 'b'] });
  /** @type {import('../wsgate.js').StateEvent[]} */
  const eqStates = [];
  const eq = await connect([a.url, b.url], { ...opts({ reprobeInterval: 100 }), onState: (e) => eqStates.push(e) });
  try {
    await waitFor(() => c.url === near.url, 5000, () => 'the move to the near node');
    // The node that answered no probe is tried last; the move has no
    // disconnected event: the new connection is up before the old goes.
    assert.deepEqual(
      states.map((e) => [e.state, e.url]),
      [['connecting', proxy.url], ['connected', proxy.url], ['connected', near.url]],
    );
    assert.ok(Array.isArray(await c.call('market.symbols')));
    await waitFor(() => o.sockets[0].readyState === 3, 3000, () => 'the far connection closed');

    await new Promise((r) => setTimeout(r, 1000)); // some ten re-probes of equals
    assert.deepEqual(eqStates.map((e) => e.state), ['connecting', 'connected']);
  } finally {
    await c.close();
    await eq.close();
    proxy.stop();
    for (const n of [far, near, a, b]) await n.stop();
  }
});
