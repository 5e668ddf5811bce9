// SPDX-License-Identifier: MIT
// Trends: the last hour from /api/history, extended live by the telemetry.
import { api } from './api.js';
import { clear, cssVar, el } from './util.js';

const SERIES = {
  soc_pct: { label: 'State of charge', unit: '%', from: (s) => s.system.soc_pct },
  pack_voltage_v: { label: 'Voltage', unit: 'V', from: (s) => s.system.pack_voltage_v },
  current_a: { label: 'Current', unit: 'A', from: (s) => s.system.current_a },
  power_w: { label: 'Power', unit: 'W', from: (s) => s.system.power_w },
  max_cell_mv: { label: 'Highest cell', unit: 'mV', from: (s) => s.system.max_cell_mv },
  min_cell_mv: { label: 'Lowest cell', unit: 'mV', from: (s) => s.system.min_cell_mv },
  max_temperature_c: { label: 'Highest temperature', unit: '°C', from: (s) => s.system.max_temperature_c },
  ccl_a: { label: 'Charge current limit', unit: 'A', from: (s) => s.limits.ccl_a },
};
const HOUR_MS = 3600 * 1000;

let chart;
let points = []; // [{x: ms, y}]
let history = null;
let key = 'soc_pct';
let visible = false;
let note;

export function init(node, ctx) {
  const select = el('select', { id: 'trend-series', 'aria-label': 'Series',
    onchange: (e) => { key = e.target.value; rebuild(); } },
  Object.entries(SERIES).map(([k, v]) => el('option', { value: k, text: `${v.label} (${v.unit})` })));
  note = el('span', { class: 'muted' });
  const box = el('div', { class: 'chart-box tall' }, el('canvas', { id: 'trend-canvas', role: 'img', 'aria-label': 'Trend' }));
  clear(node).append(el('div', { class: 'toolbar' }, [el('label', {}, ['Show ', select]), note]),
    el('div', { class: 'card' }, window.Chart ? box : el('p', { class: 'muted', text: 'Charts need Chart.js (Debian package libjs-chart.js).' })));
  ctx.onStatus((s) => {
    if (!history) return;
    const y = SERIES[key].from(s);
    points.push({ x: s.time_ms, y });
    points = points.filter((p) => p.x >= s.time_ms - HOUR_MS);
    if (visible && chart) { chart.data.datasets[0].data = points; chart.update('none'); }
  });
}

async function load() {
  try {
    history = await api('GET', '/api/history?minutes=60');
    const n = history.t_ms.length;
    note.textContent = `last hour: ${n} sample${n === 1 ? '' : 's'} every ${history.interval_s} s, then live`;
  } catch (e) {
    history = { t_ms: [] };
    note.textContent = `no history: ${e.message}`;
  }
  rebuild();
}

// Clock times on the axis, with seconds while the chart spans less than ten minutes.
function timeTick(v) {
  const short = this.max - this.min < 600000;
  return new Date(v).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: short ? '2-digit' : undefined, hour12: false });
}

function rebuild() {
  if (!history) return;
  const col = history[key] || [];
  points = history.t_ms.map((t, i) => ({ x: t, y: col[i] }));
  if (!window.Chart) return;
  if (!chart) {
    chart = new window.Chart(document.getElementById('trend-canvas'), {
      type: 'line',
      data: { datasets: [{ data: points, borderColor: cssVar('--accent'), pointRadius: 0, borderWidth: 2, spanGaps: false }] },
      options: {
        animation: false, maintainAspectRatio: false, parsing: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { type: 'linear', ticks: { callback: timeTick } },
          y: { title: { display: true, text: '' } },
        },
      },
    });
  }
  chart.data.datasets[0].data = points;
  chart.options.scales.y.title.text = `${SERIES[key].label} (${SERIES[key].unit})`;
  chart.update('none');
}

export function show() {
  visible = true;
  load();
}

export function hide() {
  visible = false;
}
