// browser.mjs runs wsgate cases inside headless Chromium: the browser's own
// WebSocket, which offers permessage-deflate like every browser does.
//
// Usage: node browser.mjs ws://127.0.0.1:PORT
//
// Chromium comes from Debian's package (/usr/bin/chromium, or $CHROMIUM),
// driven with playwright-core. The page is the server's /healthz, so the
// sockets it opens are same-origin. The server must serve /echo and /ws with
// the methods test.echo and test.publish. Output: {"peer","version"}, then
// one JSON line per case {"case","ok","detail","ms"}; exit 1 on a failure.

import { chromium } from 'playwright-core';

const base = process.argv[2];
if (!base) {
  console.error('usage: node browser.mjs ws://127.0.0.1:PORT');
  process.exit(2);
}
const httpBase = base.replace(/^ws/, 'http');

// Cases run in the page. Each returns a detail string or throws.
const pageCases = async (wsBase) => {
  const open = (path) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(wsBase + path, path === '/ws' ? ['wsgate.v1'] : []);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new Error('could not open ' + path));
    });
  const next = (ws) =>
    new Promise((resolve, reject) => {
      ws.onmessage = (e) => resolve(e.data);
      ws.onclose = (e) => reject(new Error('closed ' + e.code));
    });
  const text = (n) => {
    // Compressible JSON-like text with multi-byte characters.
    let s = '';
    for (let i = 0; s.length < n; i++) s += `{"i":${i},"sym":"ÄCME€","p":${i % 37}},`;
    return s.slice(0, n);
  };
  const bytes = (n) => {
    const b = new Uint8Array(n);
    let x = 12345;
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = x >>> 24;
    }
    return b;
  };
  const results = [];
  const run = async (name, fn) => {
    const t0 = performance.now();
    try {
      results.push({ case: name, ok: true, detail: String(await fn()), ms: Math.round(performance.now() - t0) });
    } catch (err) {
      results.push({ case: name, ok: false, detail: String(err && err.message), ms: Math.round(performance.now() - t0) });
    }
  };

  const echo = await open('/echo');
  await run('deflate/negotiated', async () => {
    if (!echo.extensions.includes('permessage-deflate')) throw new Error('extensions: ' + JSON.stringify(echo.extensions));
    return echo.extensions;
  });
  for (const n of [0, 1, 255, 256, 257, 4096, 65536, 1 << 20]) {
    await run(`echo/text/${n}`, async () => {
      const msg = text(n);
      const got = next(echo);
      echo.send(msg);
      const back = await got;
      if (back !== msg) throw new Error(`got ${back.length} chars back, want ${msg.length}`);
      return `${n} chars`;
    });
    await run(`echo/binary/${n}`, async () => {
      const msg = bytes(n);
      const got = next(echo);
      echo.send(msg);
      const back = new Uint8Array(await got);
      if (back.length !== n || back.some((v, i) => v !== msg[i])) throw new Error(`got ${back.length} bytes back, different`);
      return `${n} bytes`;
    });
  }
  await run('close/3000', async () => {
    const code = await new Promise((resolve) => {
      echo.onclose = (e) => resolve(e.code);
      echo.close(3000, 'bye');
    });
    if (code !== 3000) throw new Error('close code ' + code);
    return 'server answered 3000';
  });

  const ws = await open('/ws');
  const reply = async (req) => {
    const got = next(ws);
    ws.send(JSON.stringify(req));
    return JSON.parse(await got);
  };
  await run('ws/subprotocol', async () => {
    if (ws.protocol !== 'wsgate.v1') throw new Error('protocol ' + ws.protocol);
    return ws.protocol;
  });
  await run('ws/call', async () => {
    const args = { text: text(3000) };
    const r = await reply({ id: 1, call: 'test.echo', args });
    if (JSON.stringify(r) !== JSON.stringify({ id: 1, result: args })) throw new Error(JSON.stringify(r).slice(0, 200));
    return 'result echoed';
  });
  await run('ws/sub-publish', async () => {
    const r = await reply({ id: 2, sub: 'browser.news' });
    if (!r.result || typeof r.result.seq !== 'number') throw new Error(JSON.stringify(r));
    const pub = await reply({ id: 3, call: 'test.publish', args: { channel: 'browser.news', data: { big: text(2000) } } });
    // The publication and the call's reply may come in either order.
    const msgs = [pub, JSON.parse(await next(ws))];
    const p = msgs.find((m) => m.ch === 'browser.news');
    if (!p || p.data.big !== text(2000)) throw new Error(JSON.stringify(msgs).slice(0, 200));
    return `seq ${p.seq}`;
  });
  ws.close(1000);
  return results;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  console.log(JSON.stringify({ peer: 'chromium', version: browser.version() }));
  const page = await browser.newPage();
  await page.goto(httpBase + '/healthz');
  const results = await page.evaluate(pageCases, base);
  for (const r of results) {
    failed ||= !r.ok;
    console.log(JSON.stringify(r));
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
