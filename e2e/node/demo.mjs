// demo.mjs drives the demo page (/) in headless Chromium and reports what
// it shows, one case at a time.
//
// Usage: node demo.mjs MODE http://127.0.0.1:PORT OUTDIR
//
//   one       one node with the demo backend: the page connects, negotiates
//             permessage-deflate, draws ticks for every symbol and a
//             history, times it computed and cached, fills the server
//             panel, with no console error
//   failover  two nodes: once ticks flow it prints {"chosen":NODE}; the
//             caller kills that node, and the page must show the move to
//             the other one with ticks going on
//   nodemo    a node whose --backend has none of the demo's methods: the
//             page says so and still shows the connection
//
// Chromium comes from Debian's package (/usr/bin/chromium, or $CHROMIUM),
// driven with playwright-core. Screenshots (1280 px wide) go to OUTDIR.
// Output: {"peer","version"}, then one JSON line per case
// {"case","ok","detail","ms"}; exit 1 on a failure. $WSGATE_DEMO_TICKS
// (default 24) is how many ticks per symbol the page shows before its
// screenshot: 120 fill the sparklines.

import { chromium } from 'playwright-core';
import { join } from 'node:path';

const [mode, base, outDir] = process.argv.slice(2);
if (!['one', 'failover', 'nodemo'].includes(mode) || !base || !outDir) {
  console.error('usage: node demo.mjs one|failover|nodemo http://127.0.0.1:PORT OUTDIR');
  process.exit(2);
}
const settleTicks = Number(process.env.WSGATE_DEMO_TICKS) || 24;

let failed = false;
/**
 * Runs one case and prints its result; a failed case stops the run
 * when stop is set (the cases after it depend on it).
 * @param {string} name
 * @param {() => Promise<string>} fn
 */
async function check(name, fn, stop = true) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    console.log(JSON.stringify({ case: name, ok: true, detail: String(detail), ms: Date.now() - t0 }));
    return true;
  } catch (err) {
    failed = true;
    console.log(JSON.stringify({ case: name, ok: false, detail: String(err && err.message).slice(0, 2000), ms: Date.now() - t0 }));
    if (stop) throw new Stop();
    return false;
  }
}
class Stop extends Error {}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--font-render-hinting=none'],
});
try {
  console.log(JSON.stringify({ peer: 'chromium', version: browser.version() }));
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  /** @type {string[]} */
  const consoleErrors = [];
  /** @type {string[]} */
  const exceptions = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => exceptions.push(String(e)));
  await page.goto(base + '/');

  /**
   * Waits until fn(arg) is truthy in the page; resolves with its value.
   * @template T
   * @param {(arg: any) => T} fn
   * @param {any} [arg]
   * @param {number} [ms]
   * @returns {Promise<T>}
   */
  const until = async (fn, arg, ms = 20000) => (await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 })).jsonValue();
  /** Ticks shown per symbol. */
  const ticks = () => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('.ticker')].map((el) => [el.dataset.symbol, Number(el.dataset.ticks)])));
  const shot = async (/** @type {string} */ name) => {
    const path = join(outDir, name);
    await page.screenshot({ path, fullPage: true });
    return path;
  };
  const connected = () =>
    until(() => {
      const s = document.getElementById('state')?.dataset.state;
      const node = document.getElementById('conn-node')?.dataset.node;
      return (s === 'connected' || s === 'moved') && node ? node : '';
    });

  try {
    if (mode === 'one') {
      await check('page/connected', async () => `to ${await connected()}`);
      await check('page/deflate', async () => {
        const ext = await until(() => document.getElementById('conn-ext')?.dataset.extensions || '');
        if (!ext.startsWith('permessage-deflate')) throw new Error(`extensions: ${JSON.stringify(ext)}`);
        const shown = await page.textContent('#conn-ext');
        if (!shown?.includes('permessage-deflate')) throw new Error(`the panel shows ${JSON.stringify(shown)}`);
        return ext;
      });
      await check('page/ticks', async () => {
        await until(() => {
          const cards = [...document.querySelectorAll('.ticker')];
          return cards.length === 4 && cards.every((el) => Number(el.dataset.ticks) >= 8 && (el.querySelector('polyline')?.getAttribute('points') || '').split(' ').length >= 8);
        });
        return JSON.stringify(await ticks());
      });
      await check('page/history', async () => {
        const n = await until(() => document.querySelectorAll('#chart .candle').length >= 100 && document.querySelectorAll('#chart .candle').length);
        return `${n} candles drawn: ${await page.textContent('#hist-sub')}`;
      });
      await check('page/latency', async () => {
        await until(() => Number(document.getElementById('latency')?.dataset.runs) >= 1);
        await page.click('#fetch');
        await until(() => Number(document.getElementById('latency')?.dataset.runs) >= 2);
        const lat = await page.evaluate(() => ({
          first: Number(document.getElementById('lat-first')?.dataset.ms),
          cached: Number(document.getElementById('lat-cached')?.dataset.ms),
          firstShown: document.getElementById('lat-first')?.textContent,
          cachedShown: document.getElementById('lat-cached')?.textContent,
          cachedLabel: document.querySelectorAll('.lat-label')[1]?.textContent,
        }));
        if (!(lat.first > 0 && lat.cached > 0) || !/ms$/.test(lat.firstShown || '') || !/ms$/.test(lat.cachedShown || '')) throw new Error(JSON.stringify(lat));
        if (!/cache/.test(lat.cachedLabel || '')) throw new Error(`the second call is labelled ${JSON.stringify(lat.cachedLabel)}`);
        return `computed ${lat.firstShown}, cached ${lat.cachedShown}${lat.cached < lat.first ? '' : ' (the cached one was not faster this time)'}`;
      });
      await check('page/stats', async () => {
        await until(() => document.getElementById('server')?.dataset.filled === 'yes' && /%$/.test(document.getElementById('srv-hit')?.textContent || '') && /%$/.test(document.getElementById('srv-saved')?.textContent || ''));
        const [hit, saved, rtt, rows] = await page.evaluate(() => [
          document.getElementById('srv-hit')?.textContent,
          document.getElementById('srv-saved')?.textContent,
          document.getElementById('conn-rtt')?.textContent,
          document.querySelectorAll('#nodes tr').length,
        ]);
        if (rows < 1) throw new Error('no node in the RTT table');
        return `cache hit ratio ${hit}, compression saved ${saved}, socket RTT ${rtt}`;
      });
      await check('page/screenshot', async () => {
        await until((n) => [...document.querySelectorAll('.ticker')].every((el) => Number(el.dataset.ticks) >= n), settleTicks, 60000);
        await page.waitForTimeout(700); // the latest bars' transitions
        return shot('demo-one-node.png');
      });
      await check('page/no-console-error', async () => {
        if (consoleErrors.length || exceptions.length) throw new Error([...consoleErrors, ...exceptions].join('\n'));
        return 'none';
      });
    } else if (mode === 'failover') {
      let chosen = '';
      await check('page/connected', async () => (chosen = await connected()));
      await check('page/ticks', async () => {
        await until(() => [...document.querySelectorAll('.ticker')].every((el) => Number(el.dataset.ticks) >= 4) && document.querySelectorAll('#chart .candle').length > 0);
        return JSON.stringify(await ticks());
      });
      const before = await ticks();
      console.log(JSON.stringify({ chosen })); // the caller kills it now
      await check('page/moved', async () => {
        const to = await until((from) => {
          const s = document.getElementById('state')?.dataset.state;
          const node = document.getElementById('conn-node')?.dataset.node;
          return s === 'moved' && node && node !== from ? node : '';
        }, chosen, 30000);
        const line = await page.evaluate(() => [...document.querySelectorAll('#events li')].map((li) => li.lastElementChild?.textContent).find((t) => t?.includes('moved from')));
        if (!line) throw new Error('no "moved from" event');
        return `to ${to}: ${line}`;
      });
      await check('page/ticks-after-move', async () => {
        const at = await ticks();
        await until((at) => [...document.querySelectorAll('.ticker')].every((el) => Number(el.dataset.ticks) >= at[el.dataset.symbol] + 8), at, 30000);
        const now = await ticks();
        return `before the kill ${JSON.stringify(before)}, at the move ${JSON.stringify(at)}, now ${JSON.stringify(now)}`;
      });
      await check('page/screenshot', async () => shot('demo-moved.png'));
      await check('page/no-exception', async () => {
        if (exceptions.length) throw new Error(exceptions.join('\n'));
        return `none (console errors of the lost node's requests: ${consoleErrors.length})`;
      });
    } else {
      await check('page/notice', async () => {
        await until(() => document.body.dataset.demo === 'no' && !document.getElementById('nodemo')?.hidden);
        const [visible, tickersHidden] = await page.evaluate(() => [
          document.getElementById('nodemo')?.getBoundingClientRect().height,
          document.getElementById('tickers')?.hidden && document.getElementById('history')?.hidden,
        ]);
        if (!visible || !tickersHidden) throw new Error(`notice ${visible} px high, market widgets hidden: ${tickersHidden}`);
        return (await page.textContent('#nodemo h2')) + ': ' + (await page.textContent('#nodemo-why'));
      });
      await check('page/connection-panel', async () => {
        const node = await connected();
        const ext = await page.evaluate(() => document.getElementById('conn-ext')?.dataset.extensions || '');
        const rows = await page.evaluate(() => document.querySelectorAll('#nodes tr').length);
        if (!ext?.includes('permessage-deflate') || rows < 1) throw new Error(`compression ${JSON.stringify(ext)}, ${rows} nodes listed`);
        return `node ${node}, ${ext}`;
      });
      await check('page/screenshot', async () => shot('demo-no-backend.png'));
      await check('page/no-console-error', async () => {
        if (consoleErrors.length || exceptions.length) throw new Error([...consoleErrors, ...exceptions].join('\n'));
        return 'none';
      });
    }
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
