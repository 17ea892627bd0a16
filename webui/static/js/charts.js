// Small SVG charts built node by node (no library, no inline styles: colours come from the
// series-N classes in style.css).
import {h, s} from './dom.js';
import {number} from './format.js';

const W = 560;
const H = 240;
const M = {left: 56, right: 16, top: 12, bottom: 36};

// About `count` round tick values covering [lo, hi].
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return lo === 0 ? [0, 1] : [lo - Math.abs(lo) * 0.1, hi + Math.abs(hi) * 0.1];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

// series: [{label, points: [[x, y], ...]}]. Returns a <figure> with the chart and a legend.
export function lineChart({title, series, xLabel = 'step'}) {
  const all = series.flatMap((sr) => sr.points);
  const [x0, x1] = all.length ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))]
    : [0, 1];
  const xr = x0 === x1 ? [x0 - 1, x1 + 1] : [x0, x1];
  const [y0, y1] = extent(all.map((p) => p[1]));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x) => M.left + ((x - xr[0]) / (xr[1] - xr[0])) * pw;
  const sy = (y) => M.top + ph - ((y - y0) / (y1 - y0)) * ph;

  const svg = s('svg', {class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${title}: ${series.length} series`},
  s('title', null, title));
  for (const t of ticks(y0, y1)) {
    svg.appendChild(s('line', {class: 'grid', x1: M.left, x2: W - M.right, y1: sy(t), y2: sy(t)}));
    svg.appendChild(s('text', {class: 'tick', x: M.left - 6, y: sy(t) + 4, 'text-anchor': 'end'},
      number(t, 3)));
  }
  // Steps are whole numbers: no tick at 1.5.
  const wholeX = all.every((p) => Number.isInteger(p[0]));
  for (const t of ticks(xr[0], xr[1], 6)) {
    if ((x0 !== x1 || t === x0) && (!wholeX || Number.isInteger(t))) {
      svg.appendChild(s('text', {class: 'tick', x: sx(t), y: H - M.bottom + 16,
        'text-anchor': 'middle'}, number(t, 6)));
    }
  }
  svg.appendChild(s('line', {class: 'axis', x1: M.left, x2: W - M.right, y1: H - M.bottom,
    y2: H - M.bottom}));
  svg.appendChild(s('line', {class: 'axis', x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom}));
  svg.appendChild(s('text', {class: 'axis-label', x: M.left + pw / 2, y: H - 4,
    'text-anchor': 'middle'}, xLabel));

  series.forEach((sr, i) => {
    const cls = `series series-${i % 8}`;
    const pts = [...sr.points].sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) {
      svg.appendChild(s('polyline', {class: `${cls} line`,
        points: pts.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ')}));
    }
    if (pts.length <= 40) {
      for (const p of pts) {
        svg.appendChild(s('circle', {class: `${cls} dot`, cx: sx(p[0]).toFixed(1),
          cy: sy(p[1]).toFixed(1), r: 3}, s('title', null, `${sr.label}: ${number(p[1], 6)} at ${xLabel} ${p[0]}`)));
      }
    }
  });

  const legend = h('ul', {class: 'legend'}, series.map((sr, i) => h('li', null,
    swatch(i), ` ${sr.label}`)));
  return h('figure', {class: 'chart-box'}, h('figcaption', {class: 'mono'}, title), svg, legend);
}

function swatch(i) {
  return s('svg', {class: 'swatch', viewBox: '0 0 12 12', 'aria-hidden': 'true', width: 12, height: 12},
    s('rect', {class: `series series-${i % 8} fill`, width: 12, height: 12, rx: 2}));
}

// bars: [{label, value, max, text}]: horizontal bars on one scale. `max` (optional) draws the
// bar's limit as a track behind it, e.g. a quota.
export function barChart({title, bars, unit = ''}) {
  const rowH = 34;
  const labelW = 100;
  const textW = 120;
  const width = 460;
  const height = bars.length * rowH + 8;
  const scaleMax = Math.max(1e-9, ...bars.map((b) => Math.max(Number(b.max) || 0, Number(b.value) || 0)));
  const bw = width - labelW - textW;
  const svg = s('svg', {class: 'chart bars', viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `${title}: ${bars.map((b) => `${b.label} ${b.text || `${number(b.value, 4)} ${unit}`}`).join(', ')}`},
  s('title', null, title));
  bars.forEach((b, i) => {
    const y = 4 + i * rowH;
    const value = Math.max(0, Number(b.value) || 0);
    svg.appendChild(s('text', {class: 'bar-label', x: labelW - 8, y: y + rowH / 2,
      'text-anchor': 'end', 'dominant-baseline': 'middle'}, b.label));
    if (b.max !== undefined && b.max !== null) {
      svg.appendChild(s('rect', {class: 'bar-track', x: labelW, y: y + 4,
        width: ((Number(b.max) || 0) / scaleMax) * bw, height: rowH - 10, rx: 3}));
    }
    const over = b.max !== undefined && b.max !== null && value > Number(b.max);
    svg.appendChild(s('rect', {class: ['bar', 'series-0', 'fill', over ? 'over' : ''],
      x: labelW, y: y + 4, width: Math.max(value > 0 ? 2 : 0, (value / scaleMax) * bw),
      height: rowH - 10, rx: 3}));
    svg.appendChild(s('text', {class: 'bar-value', x: labelW + bw + 8, y: y + rowH / 2,
      'dominant-baseline': 'middle'},
      b.text || `${number(value, 4)} ${unit}`.trim()));
  });
  return h('figure', {class: 'chart-box'}, h('figcaption', null, title), svg);
}
