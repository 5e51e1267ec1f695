// app.js: the demo page. It connects with wsgate.js to the nearest node
// of the cluster that served it, draws the demo backend's live ticks and
// price history, times a history computed and then served from the cache,
// and shows the connection (node, probes, compression) and the node's
// counters (demo.stats). Without the demo backend it says so and keeps the
// connection panel.

import { connect } from './wsgate.js';
import { candleChart, sparkline } from './chart.js';

/** Ticks kept per symbol for its sparkline: 30 s at 4 a second. */
const SPARK_POINTS = 120;
/** Candles drawn of a history. */
const CANDLES_SHOWN = 120;
/** How often demo.stats is asked, ms. */
const STATS_EVERY = 2500;
/** Wire codes after which market.symbols is asked again rather than taken as "no demo backend". */
const RETRY = ['connection_lost', 'timeout', 'unavailable', 'rate_limited'];

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const page = {
  /** @type {import('./wsgate.js').Client | null} */
  client: null,
  started: performance.now(),
  firstIn: 0, // ms from the page's start to its first connection
  url: '', // the node in use
  node: '',
  region: '',
  lostAt: 0, // when the last connection ended; 0 while connected
  lostNode: '',
  moves: 0,
  /** @type {Set<string>} URLs of nodes whose connection was lost and not regained */
  lost: new Set(),
  /** @type {Map<string, string>} node ids by URL, as state events said them */
  names: new Map(),
  symbol: '',
  /** @type {Set<string>} histories asked for, "symbol/points" */
  asked: new Set(),
  /** @type {import('./chart.js').Candle[]} */
  candles: [],
};

// ---- events and the state pill ----

/**
 * Adds a line to the event list, newest first.
 * @param {'good' | 'bad' | 'info' | ''} kind
 * @param {string} text
 */
function event(kind, text) {
  const li = document.createElement('li');
  li.className = kind;
  const t = document.createElement('time');
  const now = new Date();
  t.textContent = now.toTimeString().slice(0, 8) + '.' + String(now.getMilliseconds()).padStart(3, '0');
  const mark = document.createElement('span');
  mark.className = 'mark';
  const span = document.createElement('span');
  span.textContent = text;
  li.append(t, mark, span);
  const list = $('events');
  list.prepend(li);
  while (list.children.length > 60) list.lastElementChild?.remove();
}

/**
 * @param {'connecting' | 'connected' | 'moved' | 'disconnected' | 'closed'} s
 * @param {string} text
 */
function setState(s, text) {
  const el = $('state');
  el.className = 'pill ' + s;
  el.dataset.state = s;
  $('state-text').textContent = text;
}

/** @param {string} url */
function nameOf(url) {
  return page.names.get(url) || (url ? new URL(url).host : '');
}

/** @param {number} ms */
function fmtMs(ms) {
  return ms < 10 ? ms.toFixed(1) + ' ms' : Math.round(ms).toLocaleString('en-US') + ' ms';
}

/** @param {number} n */
function fmtBytes(n) {
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + ' KB';
  return (n / 1024 / 1024).toFixed(1) + ' MB';
}

/** @param {number} n */
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');

/**
 * n and a noun, plural unless n is 1: "1 hit", "3 hits".
 * @param {number} n
 * @param {string} one
 * @param {string} [many]
 */
const count = (n, one, many = one + 's') => `${fmtInt(n)} ${n === 1 ? one : many}`;

/** @param {import('./wsgate.js').StateEvent} e */
function onState(e) {
  const url = e.url || '';
  if (e.node) page.names.set(url, e.node);
  const who = nameOf(url) + (e.region ? ` (${e.region})` : '');
  const now = performance.now();
  switch (e.state) {
    case 'connecting':
      if (page.lostAt) {
        setState('disconnected', `Reconnecting to ${nameOf(url)}…`);
        event('', `trying ${who}, attempt ${e.attempt}${e.delay ? ` after ${fmtMs(e.delay)}` : ''}`);
      } else if (!page.url) {
        setState('connecting', `Connecting to ${nameOf(url)}…`);
      }
      break;
    case 'connected': {
      const before = page.url;
      page.url = url;
      page.node = nameOf(url);
      page.region = e.region || '';
      page.lost.delete(url);
      if (!before) {
        setState('connected', `Connected to ${page.node}`);
        page.firstIn = now - page.started; // main tells it, with the probes
      } else if (before !== url) {
        page.moves++;
        const after = page.lostAt ? ` ${fmtMs(now - page.lostAt)} after losing it` : ', a nearer node';
        setState('moved', `Moved to ${page.node}`);
        event('info', `moved from ${nameOf(before)} to ${who}${after}; ticks resumed where they stopped`);
        // The history again, from the new node: computed there, then cached.
        if (page.symbol) setTimeout(() => showHistory(page.symbol), 500);
      } else {
        setState('connected', `Connected to ${page.node}`);
        event('good', `reconnected to ${who} after ${fmtMs(now - page.lostAt)}`);
      }
      page.lostAt = 0;
      renderConnection();
      break;
    }
    case 'disconnected':
      page.lostAt = now;
      page.lostNode = nameOf(url);
      if (e.code !== 1000) page.lost.add(url);
      setState('disconnected', `Lost ${page.lostNode}, reconnecting…`);
      event('bad', `connection to ${nameOf(url)} ended (${e.code}${e.reason ? ' ' + e.reason : ''})`);
      renderConnection();
      break;
    case 'closed':
      setState('closed', 'Closed');
      break;
  }
}

// ---- the connection panel ----

function renderConnection() {
  const c = page.client;
  const connected = !page.lostAt && page.url;
  $('conn-node').textContent = page.node || '–';
  $('conn-node').dataset.node = connected ? page.node : '';
  $('conn-region').textContent = page.region ? page.region : page.node ? 'no region set' : '';
  $('conn-url').textContent = page.url || '–';
  const moves = $('conn-moves');
  moves.hidden = page.moves === 0;
  moves.textContent = page.moves === 1 ? '1 move' : `${page.moves} moves`;
  if (!c) return;

  const ext = $('conn-ext');
  const exts = c.extensions;
  ext.dataset.extensions = exts;
  if (!connected) {
    ext.textContent = '–';
  } else if (exts.startsWith('permessage-deflate')) {
    const params = exts.split(';').slice(1).map((s) => s.trim()).filter(Boolean);
    ext.replaceChildren(span('ok', 'permessage-deflate'), span('params', params.join(', ') || 'no parameters'));
  } else {
    ext.textContent = exts || 'none negotiated';
  }

  const rows = c.nodes.map((n) => {
    const tr = document.createElement('tr');
    if (n.url === c.url) tr.className = 'current';
    else if (page.lost.has(n.url)) tr.className = 'lost';
    tr.title = n.url;
    const name = n.node || new URL(n.url).host;
    const status = n.url === c.url ? 'in use' : page.lost.has(n.url) ? 'lost' : n.draining ? 'draining' : 'standby';
    tr.append(td(name), td(n.region || '–'), td(n.rtt >= 0 ? fmtMs(n.rtt) : 'no answer', 'num'), td(status, 'num status'));
    return tr;
  });
  $('nodes').replaceChildren(...rows);
}

/**
 * @param {string} cls
 * @param {string} text
 */
function span(cls, text) {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  return s;
}

/**
 * @param {string} text
 * @param {string} [cls]
 */
function td(text, cls) {
  const d = document.createElement('td');
  d.textContent = text;
  if (cls) d.className = cls;
  return d;
}

// ---- the server panel (demo.stats) ----

/**
 * @typedef {object} Stats
 * @property {string} node
 * @property {string} region
 * @property {number} conns
 * @property {number} calls
 * @property {number} publications
 * @property {{ hits: number, misses: number, entries: number, bytes: number }} cache
 * @property {{ bytesIn: number, bytesOut: number, framesDeflated: number, framesPlain: number }} compression
 */

/** @param {import('./wsgate.js').Client} c */
async function pollStats(c) {
  for (;;) {
    const t0 = performance.now();
    try {
      /** @type {Stats} */
      const st = await c.call('demo.stats', undefined, { timeout: 5000 });
      $('conn-rtt').textContent = `${fmtMs(performance.now() - t0)} over the WebSocket`;
      showStats(st);
    } catch (err) {
      const code = /** @type {any} */ (err).code;
      if (!RETRY.includes(code)) {
        $('srv-none').hidden = false;
        $('srv-figures').hidden = true;
        $('conn-rtt').textContent = 'not measured: it times demo.stats, which the demo backend answers';
        $('conn-rtt').className = 'none';
        return;
      }
    }
    renderConnection();
    await new Promise((r) => setTimeout(r, STATS_EVERY));
  }
}

/** @param {Stats} st */
function showStats(st) {
  const server = $('server');
  server.dataset.filled = 'yes';
  $('srv-node').textContent = `node ${st.node}${st.region ? ' · ' + st.region : ''}, since it started`;
  const z = st.compression;
  const saved = z.bytesIn > 0 ? 1 - z.bytesOut / z.bytesIn : 0;
  $('srv-saved').textContent = z.bytesIn > 0 ? `${(saved * 100).toFixed(0)} %` : '–';
  $('bar-saved').style.width = `${(saved * 100).toFixed(1)}%`;
  $('srv-bytes').textContent = z.bytesIn > 0
    ? `${fmtBytes(z.bytesIn)} of messages went out as ${fmtBytes(z.bytesOut)}; ${count(z.framesDeflated, 'frame')} deflated, ${fmtInt(z.framesPlain)} sent plain`
    : 'nothing compressed yet';
  const k = st.cache;
  const asked = k.hits + k.misses;
  const ratio = asked > 0 ? k.hits / asked : 0;
  $('srv-hit').textContent = asked > 0 ? `${(ratio * 100).toFixed(0)} %` : '–';
  $('bar-hit').style.width = `${(ratio * 100).toFixed(1)}%`;
  $('srv-cache').textContent = `${count(k.hits, 'hit')}, ${count(k.misses, 'miss', 'misses')}; ${count(k.entries, 'result')} held in ${fmtBytes(k.bytes)}`;
  $('srv-conns').textContent = fmtInt(st.conns);
  $('srv-calls').textContent = fmtInt(st.calls);
  $('srv-pubs').textContent = fmtInt(st.publications);
}

// ---- live ticks ----

/** @typedef {{ el: HTMLElement, price: HTMLElement, change: HTMLElement, count: HTMLElement, spark: SVGSVGElement, values: number[], first: number, ticks: number }} Ticker */

/** @type {Map<string, Ticker>} */
const tickers = new Map();

/** @param {string[]} symbols */
function makeTickers(symbols) {
  const box = $('tickers');
  for (const sym of symbols) {
    const el = document.createElement('article');
    el.className = 'card ticker';
    el.dataset.symbol = sym;
    el.dataset.ticks = '0';
    el.innerHTML = `<span class="sym"></span><span class="count">waiting for ticks</span>
      <span class="price">–</span><span class="change flat">0.00 %</span>
      <svg class="spark" viewBox="0 0 300 46" preserveAspectRatio="none" aria-hidden="true"></svg>`;
    /** @type {HTMLElement} */ (el.querySelector('.sym')).textContent = sym;
    box.append(el);
    tickers.set(sym, {
      el,
      price: /** @type {HTMLElement} */ (el.querySelector('.price')),
      change: /** @type {HTMLElement} */ (el.querySelector('.change')),
      count: /** @type {HTMLElement} */ (el.querySelector('.count')),
      spark: /** @type {SVGSVGElement} */ (el.querySelector('.spark')),
      values: [],
      first: 0,
      ticks: 0,
    });
  }
}

/** @param {any} d a tick: {symbol, price, ts} */
function onTick(d) {
  if (!d || typeof d.symbol !== 'string' || typeof d.price !== 'number') return;
  const t = tickers.get(d.symbol);
  if (!t) return;
  const prev = t.values.length ? t.values[t.values.length - 1] : d.price;
  if (!t.first) t.first = d.price;
  t.values.push(d.price);
  if (t.values.length > SPARK_POINTS) t.values.shift();
  t.ticks++;
  t.el.dataset.ticks = String(t.ticks);
  t.count.textContent = count(t.ticks, 'tick');
  t.price.textContent = d.price.toFixed(2);
  if (d.price !== prev) t.price.dataset.move = d.price > prev ? 'up' : 'down';
  const ch = (d.price - t.first) / t.first;
  const dir = ch > 0.00005 ? 'up' : ch < -0.00005 ? 'down' : 'flat';
  t.change.className = 'change ' + dir;
  t.change.textContent = `${ch > 0 ? '+' : ch < 0 ? '−' : ''}${Math.abs(ch * 100).toFixed(2)} %`;
  t.change.title = 'since this page opened';
  sparkline(t.spark, t.values, ch >= 0);
}

// ---- history, computed then cached ----

/** @param {string[]} symbols */
function makeSymbolTabs(symbols) {
  const tabs = symbols.map((sym) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.role = 'tab';
    b.textContent = sym;
    b.dataset.symbol = sym;
    b.onclick = () => {
      if (sym !== page.symbol) showHistory(sym);
    };
    return b;
  });
  $('symbols').replaceChildren(...tabs);
}

/**
 * A points count for symbol that this page has not asked for: a history
 * no one is likely to have asked for either, so the first call computes it.
 * @param {string} symbol
 */
function freshPoints(symbol) {
  for (;;) {
    const n = 1200 + Math.floor(Math.random() * 1200);
    if (!page.asked.has(`${symbol}/${n}`)) {
      page.asked.add(`${symbol}/${n}`);
      return n;
    }
  }
}

/**
 * Calls market.history for symbol twice with the same args, timing each:
 * the first is computed by the backend, the second answered by the cache.
 * Draws the history and the two timings.
 * @param {string} symbol
 */
async function showHistory(symbol) {
  const c = page.client;
  if (!c) return;
  page.symbol = symbol;
  for (const b of $('symbols').querySelectorAll('button')) b.setAttribute('aria-selected', String(b.dataset.symbol === symbol));
  const button = /** @type {HTMLButtonElement} */ ($('fetch'));
  button.disabled = true;
  const args = { symbol, points: freshPoints(symbol) };
  try {
    let t0 = performance.now();
    const first = await c.call('market.history', args, { timeout: 15000 });
    const msFirst = performance.now() - t0;
    t0 = performance.now();
    await c.call('market.history', args, { timeout: 15000 });
    const msCached = performance.now() - t0;
    if (page.symbol !== symbol) return; // another tab was chosen meanwhile

    page.candles = Array.isArray(first.points) ? first.points.slice(-CANDLES_SHOWN) : [];
    drawHistory();
    const size = JSON.stringify(first).length;
    $('hist-symbol').textContent = symbol;
    $('hist-sub').textContent = `Last ${page.candles.length} of ${fmtInt(args.points)} one-minute candles · ${fmtBytes(size)} of JSON`;
    $('hist-sub').title = `market.history ${JSON.stringify(args)}`;
    showLatency(msFirst, msCached);
    event('', `market.history ${symbol} ×${args.points}: computed in ${fmtMs(msFirst)}, from the cache in ${fmtMs(msCached)}`);
  } catch (err) {
    event('bad', `market.history ${symbol}: ${message(err)}`);
  } finally {
    button.disabled = false;
  }
}

function drawHistory() {
  candleChart(/** @type {SVGSVGElement} */ (/** @type {unknown} */ ($('chart'))), page.candles);
}

/**
 * @param {number} first
 * @param {number} cached
 */
function showLatency(first, cached) {
  const max = Math.max(first, cached, 0.001);
  $('bar-first').style.width = `${Math.max(1, (first / max) * 100).toFixed(1)}%`;
  $('bar-cached').style.width = `${Math.max(1, (cached / max) * 100).toFixed(1)}%`;
  $('lat-first').textContent = fmtMs(first);
  $('lat-first').dataset.ms = first.toFixed(2);
  $('lat-cached').textContent = fmtMs(cached);
  $('lat-cached').dataset.ms = cached.toFixed(2);
  const lat = $('latency');
  lat.dataset.runs = String(Number(lat.dataset.runs || 0) + 1);
  const note = $('lat-note');
  if (cached < first) {
    note.replaceChildren(span('', 'The cached answer was '), document.createElement('strong'), span('', ': the result is kept ready to send, compressed once, for every client.'));
    /** @type {HTMLElement} */ (note.querySelector('strong')).textContent = `${(first / Math.max(cached, 0.01)).toFixed(first / cached >= 10 ? 0 : 1)}× faster`;
  } else {
    note.textContent = 'This time the cached answer was no faster: the first call was cheap, or the network dominated.';
  }
}

// ---- start ----

/** @param {unknown} err */
function message(err) {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/^wsgate: /, '');
}

/** @param {unknown} err */
function noDemo(err) {
  document.body.dataset.demo = 'no';
  document.body.classList.add('no-demo');
  $('tickers').hidden = true;
  $('history').hidden = true;
  $('nodemo').hidden = false;
  $('nodemo-why').textContent = `it answered market.symbols with “${message(err)}”`;
  event('bad', `no demo backend: market.symbols answered ${message(err)}`);
}

/** @param {import('./wsgate.js').Client} c */
async function startDemo(c) {
  /** @type {string[]} */
  let symbols = [];
  for (let attempt = 1; ; attempt++) {
    try {
      symbols = await c.call('market.symbols', undefined, { timeout: 10000 });
      break;
    } catch (err) {
      if (!RETRY.includes(/** @type {any} */ (err).code) || attempt >= 5) return noDemo(err);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  if (!Array.isArray(symbols) || !symbols.every((s) => typeof s === 'string') || symbols.length === 0) {
    return noDemo(new Error('an answer that is not a list of symbols'));
  }
  document.body.dataset.demo = 'yes';
  makeTickers(symbols);
  makeSymbolTabs(symbols);
  await c.subscribe('ticks', (m) => {
    if (m.kind === 'publication') onTick(m.data);
    else if (m.kind === 'gap') event('info', 'some ticks were missed while reconnecting; the charts go on from here');
    else if (m.kind === 'ended') event('bad', `ticks: ${message(m.error)}`);
  });
  event('good', 'subscribed to ticks');
  $('fetch').onclick = () => showHistory(page.symbol);
  await showHistory(symbols[0]);
}

async function main() {
  setState('connecting', 'Connecting…');
  let c;
  try {
    c = await connect([location.origin], { onState });
  } catch (err) {
    setState('closed', 'No node reachable');
    event('bad', message(err));
    return;
  }
  page.client = c;
  const timed = c.nodes.map((n) => `${n.node || new URL(n.url).host} ${n.rtt >= 0 ? fmtMs(n.rtt) : 'no answer'}`);
  const why = timed.length === 1 ? `the only node, probed in ${timed[0].split(' ').slice(1).join(' ')}` : `the nearest of ${timed.length} nodes probed (${timed.join(', ')})`;
  event('good', `connected to ${page.node}${page.region ? ` (${page.region})` : ''} in ${fmtMs(page.firstIn)}: ${why}`);
  renderConnection();
  pollStats(c);
  startDemo(c);
  let drawn = '';
  new ResizeObserver(() => {
    const r = $('chart').getBoundingClientRect();
    const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
    if (size !== drawn && page.candles.length) drawHistory();
    drawn = size;
  }).observe($('chart'));
}

main();
