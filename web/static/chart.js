// chart.js: the demo page's charts, drawn as SVG so that they stay crisp
// at any size and a test can count what was drawn.

const NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an SVG element with attributes.
 * @param {string} name
 * @param {Record<string, string | number>} [attrs]
 * @returns {SVGElement}
 */
export function svg(name, attrs = {}) {
  const el = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * Draws values as a sparkline in el (an <svg> with a viewBox of w×h):
 * a line and a faint area under it, scaled to the values' range.
 * @param {SVGSVGElement} el
 * @param {number[]} values
 * @param {boolean} up colours it as a rise (else a fall)
 */
export function sparkline(el, values, up) {
  const { width: w, height: h } = el.viewBox.baseVal;
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || 1;
  const n = values.length;
  const pts = values.map((v, i) => [n > 1 ? (i * w) / (n - 1) : w, h - 3 - ((v - lo) / span) * (h - 6)]);
  const line = pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  let path = el.querySelector('polyline');
  let area = el.querySelector('polygon');
  if (!path || !area) {
    area = /** @type {SVGPolygonElement} */ (svg('polygon', { class: 'spark-area' }));
    path = /** @type {SVGPolylineElement} */ (svg('polyline', { class: 'spark-line' }));
    el.append(area, path);
  }
  path.setAttribute('points', line);
  area.setAttribute('points', `0,${h} ${line} ${w},${h}`);
  el.classList.toggle('down', !up);
}

/**
 * A candle as market.history sends it: t in Unix seconds, open, high,
 * low, close, volume.
 * @typedef {{ t: number, o: number, h: number, l: number, c: number, v: number }} Candle
 */

/**
 * Draws candles in el, an <svg> whose size is read from its box: a price
 * pane with gridlines and labels on the right, a volume pane below it,
 * and times along the bottom.
 * @param {SVGSVGElement} el
 * @param {Candle[]} candles
 */
export function candleChart(el, candles) {
  const box = el.getBoundingClientRect();
  const W = Math.max(320, Math.round(box.width)), H = Math.max(180, Math.round(box.height));
  el.setAttribute('viewBox', `0 0 ${W} ${H}`);
  el.replaceChildren();
  if (candles.length === 0) return;

  const right = 58, bottom = 22, top = 8, volH = Math.round(H * 0.16), gap = 10;
  const plotW = W - right, priceH = H - bottom - top - volH - gap;
  const lo = Math.min(...candles.map((c) => c.l)), hi = Math.max(...candles.map((c) => c.h));
  const pad = (hi - lo) * 0.06 || 1;
  const pLo = lo - pad, pHi = hi + pad;
  const y = (/** @type {number} */ p) => top + ((pHi - p) / (pHi - pLo)) * priceH;
  const step = plotW / candles.length;
  const body = Math.max(1, Math.min(12, step * 0.62));
  const vMax = Math.max(...candles.map((c) => c.v)), vMin = Math.min(...candles.map((c) => c.v));
  const volTop = top + priceH + gap;

  const last = candles[candles.length - 1];
  const ly = Math.round(y(last.c)) + 0.5;
  const grid = svg('g', { class: 'grid' });
  for (const p of ticks(pLo, pHi, 5)) {
    const yy = Math.round(y(p)) + 0.5;
    grid.append(svg('line', { x1: 0, x2: plotW, y1: yy, y2: yy }));
    if (Math.abs(yy - ly) < 16) continue; // under the last price's tag
    const label = svg('text', { x: W - 4, y: yy + 4, 'text-anchor': 'end' });
    label.textContent = p.toFixed(2);
    grid.append(label);
  }
  const every = Math.max(1, Math.ceil(candles.length / Math.max(2, Math.floor(plotW / 90))));
  for (let i = every >> 1; i < candles.length; i += every) {
    const x = Math.round((i + 0.5) * step) + 0.5;
    grid.append(svg('line', { x1: x, x2: x, y1: top, y2: volTop + volH, class: 'vgrid' }));
    const label = svg('text', { x, y: H - 6, 'text-anchor': 'middle' });
    label.textContent = hhmm(candles[i].t);
    grid.append(label);
  }
  el.append(grid);

  const bodies = svg('g', { class: 'candles' });
  const vols = svg('g', { class: 'volume' });
  candles.forEach((c, i) => {
    const cx = (i + 0.5) * step;
    const cls = c.c >= c.o ? 'up' : 'down';
    const g = svg('g', { class: `candle ${cls}` });
    g.append(svg('line', { x1: cx, x2: cx, y1: y(c.h), y2: y(c.l), class: 'wick' }));
    const yo = y(c.o), yc = y(c.c);
    g.append(svg('rect', { x: cx - body / 2, y: Math.min(yo, yc), width: body, height: Math.max(1, Math.abs(yc - yo)) }));
    bodies.append(g);
    const vh = volH * (0.12 + 0.88 * ((c.v - vMin) / (vMax - vMin || 1))); // the range, not from zero: volumes vary little
    vols.append(svg('rect', { x: cx - body / 2, y: volTop + volH - vh, width: body, height: vh, class: cls }));
  });
  el.append(vols, bodies);

  const tag = svg('g', { class: `last ${last.c >= last.o ? 'up' : 'down'}` });
  tag.append(svg('line', { x1: 0, x2: plotW, y1: ly, y2: ly }));
  tag.append(svg('rect', { x: plotW + 2, y: ly - 9, width: right - 4, height: 18, rx: 3 }));
  const text = svg('text', { x: W - 4, y: ly + 4, 'text-anchor': 'end' });
  text.textContent = last.c.toFixed(2);
  tag.append(text);
  el.append(tag);
}

/**
 * About n round values between lo and hi, for gridlines.
 * @param {number} lo
 * @param {number} hi
 * @param {number} n
 */
function ticks(lo, hi, n) {
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(v);
  return out;
}

/**
 * The UTC time of day of Unix seconds t, as HH:MM.
 * @param {number} t
 */
function hhmm(t) {
  return new Date(t * 1000).toISOString().slice(11, 16);
}
