// SPDX-License-Identifier: MIT
// Cells: a bar per cell for every string, lowest and highest cell and balancing highlighted.
import { DASH, clear, cssVar, el, num, table } from './util.js';

let root;
let ctxRef;
const charts = new Map(); // string number -> { chart, info }
let visible = false;

export function init(node, ctx) {
  root = node;
  ctxRef = ctx;
  clear(root).append(el('p', { class: 'muted', text: 'Waiting for data…' }));
  ctx.onStatus((s) => { if (visible) render(s); });
}

export function show() {
  visible = true;
  if (ctxRef.status) render(ctxRef.status);
}

export function hide() {
  visible = false;
}

function colors(st) {
  const base = cssVar('--accent'), lo = cssVar('--warn'), hi = cssVar('--bad'), bal = '#8250df';
  return st.cells_mv.map((mv, i) => {
    if (st.cells_balancing[i]) return bal;
    if (i + 1 === st.max_cell) return hi;
    if (i + 1 === st.min_cell) return lo;
    return base;
  });
}

function summary(st) {
  const bal = st.cells_balancing.map((b, i) => (b ? i + 1 : 0)).filter(Boolean);
  if (st.min_cell_mv === null) return 'no cell data';
  return `lowest ${st.min_cell_mv} mV (cell ${st.min_cell}) · highest ${st.max_cell_mv} mV (cell ${st.max_cell}) · ` +
    `spread ${st.max_cell_mv - st.min_cell_mv} mV · ` +
    (bal.length ? `balancing cells ${bal.join(', ')}` : 'no cell balancing');
}

function makeChart(canvas, st) {
  return new window.Chart(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'Cell voltage (mV)', data: [], backgroundColor: [] }] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false },
        tooltip: { callbacks: { title: (items) => `Cell ${items[0].label}`, label: (it) => `${it.raw} mV` } } },
      scales: { x: { title: { display: true, text: 'cell' } }, y: { title: { display: true, text: 'mV' } } },
    },
  });
}

function stringBlock(st) {
  const canvas = el('canvas', { 'aria-label': `Cell voltages of string ${st.string}`, role: 'img',
    dataset: { string: st.string } });
  const info = el('div', { class: 'sub' });
  const block = el('div', { class: 'card', dataset: { string: st.string } }, [
    el('h3', { text: `String ${st.string} — ${st.name}` }),
    window.Chart ? el('div', { class: 'chart-box' }, canvas) : el('div', { class: 'cell-table' }),
    info,
  ]);
  const entry = { block, info, chart: window.Chart ? makeChart(canvas, st) : null };
  charts.set(st.string, entry);
  return block;
}

function fill(entry, st) {
  entry.info.textContent = summary(st);
  if (!entry.chart) {
    const rows = st.cells_mv.map((mv, i) => el('tr', {}, [el('td', { text: String(i + 1) }),
      el('td', { class: 'num', text: mv === null ? DASH : String(mv) }),
      el('td', { text: st.cells_balancing[i] ? 'balancing' : '' })]));
    entry.block.querySelector('.cell-table').replaceChildren(table(['Cell', { class: 'num', text: 'mV' }, ''], rows));
    return;
  }
  const c = entry.chart;
  const vals = st.cells_mv.filter((v) => v !== null);
  c.data.labels = st.cells_mv.map((_, i) => String(i + 1));
  c.data.datasets[0].data = st.cells_mv;
  c.data.datasets[0].backgroundColor = colors(st);
  if (vals.length) {
    c.options.scales.y.min = Math.floor((Math.min(...vals) - 40) / 10) * 10;
    c.options.scales.y.max = Math.ceil((Math.max(...vals) + 20) / 10) * 10;
  }
  c.update('none');
}

function render(s) {
  if (!document.getElementById('cells-grid'))
    clear(root).append(el('div', { class: 'grid wide', id: 'cells-grid' }),
      el('p', { class: 'muted', text: 'Orange: lowest cell · red: highest cell · violet: balancing now.' }));
  const grid = document.getElementById('cells-grid');
  const want = s.strings.filter((st) => st.cells_mv.length > 0);
  if (want.length === 0 && !grid.querySelector('.none'))
    grid.replaceChildren(el('p', { class: 'muted none', text: 'No cell voltages yet: no TinyBMS has answered.' }));
  for (const st of want) {
    let entry = charts.get(st.string);
    if (!entry) {
      grid.querySelector('.none')?.remove();
      grid.append(stringBlock(st));
      entry = charts.get(st.string);
    }
    fill(entry, st);
  }
}

// for tests and tools: the number of bars drawn for a string
export function barCount(stringNo) {
  const e = charts.get(stringNo);
  return e && e.chart ? e.chart.data.datasets[0].data.length : 0;
}
