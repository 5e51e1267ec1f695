// wsgate.js against a real node with --auth jwt: the token offered in the
// handshake, a refresh when the node asks, and each close over a token
// seen in the disconnected event before the client comes back with a new
// one. Tokens are HS256, minted here with node:crypto.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, WsgateError } from '../wsgate.js';
import { startNode, recordingWebSocket, tempDir, waitFor } from '../testutil/helpers.js';

const secret = 'the wsgate.js tests secret, 32 bytes or more';
const wrongSecret = 'a secret the node does not know, 32 bytes+';

/** @type {Awaited<ReturnType<typeof startNode>>} */
let node;

before(async () => {
  const f = join(tempDir(), 'secret');
  writeFileSync(f, secret);
  node = await startNode({ args: ['--auth', 'jwt', '--auth-jwt-secret-file', f, '--auth-skew', '1s', '--auth-timeout', '300ms'] });
});

after(async () => {
  await node.stop();
});

/**
 * An HS256 JWT for sub, valid for life seconds, signed with key.
 * @param {string} sub
 * @param {number} life
 * @param {string} [key]
 */
function mint(sub, life, key = secret) {
  const b64 = (/** @type {object} */ v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat: now, exp: now + life })}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/**
 * A token option that answers its nth call (from 0) with next(n), and
 * counts the calls; and a client connected with it.
 * @param {((n: number) => string | Promise<string>) | null} next
 */
async function client(next) {
  let calls = 0;
  /** @type {import('../wsgate.js').StateEvent[]} */
  const states = [];
  const c = await connect([node.url], {
    ...recordingWebSocket(),
    storage: null,
    backoffMin: 50,
    backoffMax: 200,
    onState: (e) => states.push(e),
    ...(next ? { token: () => next(calls++) } : {}),
  });
  return { c, states, calls: () => calls };
}

test('a token in the handshake connects; nothing else is asked', async () => {
  const { c, states, calls } = await client(() => mint('alice', 3600));
  try {
    await c.publish('news', 'hello'); // before a token, any message closes the connection (4001)
    assert.equal(calls(), 1);
    assert.equal(states.filter((e) => e.state === 'disconnected').length, 0);
  } finally {
    await c.close();
  }
});

test('a refresh when the node asks keeps the connection past the first token', async () => {
  const { c, states, calls } = await client(async () => mint('alice', 3));
  try {
    await waitFor(() => calls() >= 2, 5000, () => 'a refresh');
    await new Promise((r) => setTimeout(r, 3000)); // past the first token's exp and the skew
    await c.publish('news', 'still here');
    assert.deepEqual(states.filter((e) => e.state === 'disconnected'), []);
  } finally {
    await c.close();
  }
});

for (const [name, next, want] of /** @type {[string, ((n: number) => string) | null, number][]} */ ([
  ['a refresh refused', (n) => (n === 0 ? mint('alice', 3) : n === 1 ? mint('alice', 3600, wrongSecret) : mint('alice', 3600)), 4003],
  ['a refresh for another user', (n) => (n === 0 ? mint('alice', 3) : mint('mallory', 3600)), 4003],
  [
    'no token at the refresh',
    (n) => {
      if (n === 1) throw new Error('no token today');
      return n === 0 ? mint('alice', 1) : mint('alice', 3600);
    },
    4008,
  ],
  ['no token at all', null, 4009],
])) {
  test(`${name}: the connection ends with ${want}, and the client comes back`, async () => {
    const { c, states } = await client(next);
    try {
      await waitFor(() => states.some((e) => e.state === 'disconnected' && e.code === want), 8000, () => `a close with ${want}: ${JSON.stringify(states)}`);
      if (next) await waitFor(() => states.filter((e) => e.state === 'connected').length >= 2, 5000, () => 'a connection with a new token');
    } finally {
      await c.close();
    }
  });
}

test('a token refused at the handshake, or a token option that throws, reaches no node', async () => {
  for (const token of [() => mint('alice', 3600, wrongSecret), () => Promise.reject(new Error('no token today'))]) {
    await assert.rejects(connect([node.url], { ...recordingWebSocket(), storage: null, token }), (e) => e instanceof WsgateError && e.code === 'no_node');
  }
});
