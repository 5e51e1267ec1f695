// wsgate.js in headless Chromium against a real wsgate: the browser's own
// WebSocket (deflate negotiated by the browser), fetch for the probes
// across origins, and localStorage for the node remembered.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNode } from '../testutil/helpers.js';

const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath}: set CHROMIUM or run make deps-apt`;

/** @type {Awaited<ReturnType<typeof startNode>>} */
let node;
/** @type {import('node:http').Server} */
let site;
let siteURL = '';

before(async () => {
  if (skip) return;
  node = await startNode();
  // The page and wsgate.js come from another origin than the node's.
  const js = readFileSync(join(import.meta.dirname, '..', 'wsgate.js'));
  site = createServer((req, res) => {
    if (req.url === '/wsgate.js') {
      res.setHeader('Content-Type', 'text/javascript');
      res.end(js);
    } else {
      res.setHeader('Content-Type', 'text/html');
      res.end('<!doctype html><title>wsgate.js</title>');
    }
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', () => r(undefined)));
  siteURL = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (site.address()).port}`;
});

after(async () => {
  if (skip) return;
  await node.stop();
  site.close();
});

test('in Chromium: connect across origins, call, subscribe and publish, node remembered', { skip }, async () => {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(siteURL + '/');
    const got = await page.evaluate(async (nodeURL) => {
      const { connect } = await import('/wsgate.js');
      /** @type {string[]} */
      const states = [];
      const c = await connect([nodeURL], { onState: (e) => states.push(`${e.state} ${e.node ? 'named' : ''}`.trim()) });
      const symbols = await c.call('market.symbols');
      let missing = '';
      try {
        await c.call('no.such.method');
      } catch (e) {
        missing = e.code;
      }
      /** @type {any[]} */
      const msgs = [];
      await c.subscribe('browser', (m) => msgs.push([m.kind, m.seq, m.data]));
      for (let i = 1; i <= 3; i++) await c.publish('browser', { i });
      const t0 = Date.now();
      while (msgs.length < 3 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
      const extensions = c._conn.ws.extensions;
      const remembered = localStorage.getItem('wsgate.node ' + nodeURL);
      await c.close();
      return { symbols: Array.isArray(symbols), missing, msgs, states, extensions, remembered };
    }, node.url);
    assert.match(got.extensions, /permessage-deflate/, 'the browser negotiated deflate');
    delete got.extensions;
    assert.deepEqual(got, {
      symbols: true,
      missing: 'not_found',
      msgs: [1, 2, 3].map((i) => ['publication', i, { i }]),
      states: ['connecting named', 'connected named', 'closed'],
      remembered: node.url,
    });
  } finally {
    await browser.close();
  }
});
