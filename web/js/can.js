// SPDX-License-Identifier: MIT
// CAN: the interface and inverter status, and the frames on the bus decoded, live.
import { api } from './api.js';
import { Live } from './live.js';
import { DASH, clear, el, num, table } from './util.js';

let ctxRef;
let live;
let timer;
let statusBox;
let frameBody;
const frames = new Map(); // "tx 0x351" -> last message

export function init(node, ctx) {
  ctxRef = ctx;
  statusBox = el('div', { class: 'grid', id: 'can-status' });
  frameBody = el('tbody');
  clear(node).append(
    el('div', { class: 'banner', id: 'can-banner', hidden: true }),
    statusBox,
    el('h2', { text: 'Frames' }),
    el('div', { class: 'card' }, table(['ID', 'Frame', 'Dir', 'Decoded', { class: 'hide-narrow', text: 'Bytes' },
      { class: 'num', text: 'Age' }], frameBody)),
  );
}

function kv(title, value) {
  return el('div', { class: 'card' }, [el('h3', { text: title }), el('div', { class: 'sub', text: value })]);
}

async function poll() {
  const banner = document.getElementById('can-banner');
  try {
    const c = await api('GET', '/api/can/status');
    banner.hidden = true;
    statusBox.replaceChildren(
      kv('Protocol', c.protocol),
      kv('Interface', `${c.interface} · ${c.state}${c.bitrate ? ` · ${c.bitrate / 1000} kbit/s` : ''}`),
      kv('Sending', c.sending ? (c.blocked ? 'yes, with limits blocked' : 'yes') : `no (stale policy: ${c.on_stale})`),
      kv('Inverter', c.inverter_present ? (c.inverter_identified ? 'present, identified' : 'present') : 'not seen'),
      kv('Frames', `tx ${c.tx_frames} · rx ${c.rx_frames} · dropped ${c.tx_dropped}`),
      kv('Errors', `bus ${c.bus_errors} · restarts ${c.restarts}`),
    );
  } catch (e) {
    banner.hidden = false;
    banner.className = 'banner warning';
    banner.textContent = e.message;
    statusBox.replaceChildren();
  }
}

function decoded(d) {
  if (!d) return DASH;
  return Object.entries(d).map(([k, v]) => `${k}=${typeof v === 'number' ? num(v, Number.isInteger(v) ? 0 : 2) : v}`).join(' ');
}

function render() {
  const now = Date.now();
  const rows = [...frames.values()].sort((a, b) => a.id.localeCompare(b.id) || a.dir.localeCompare(b.dir))
    .map((f) => el('tr', {}, [
      el('td', { text: f.id }), el('td', { text: f.name || DASH }), el('td', { text: f.dir }),
      el('td', { text: decoded(f.decoded) }), el('td', { class: 'hide-narrow', text: f.hex }),
      el('td', { class: 'num', text: `${num((now - f.t_ms) / 1000, 1)} s` }),
    ]));
  frameBody.replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'No frame seen yet.' }))]));
}

export function show() {
  poll();
  render();
  timer = setInterval(() => { poll(); render(); }, 2000);
  if (!ctxRef.wsPort) return;
  live = new Live('/ws/can', (m) => {
    frames.set(`${m.dir} ${m.id}`, m);
  });
  live.start(ctxRef.wsPort);
}

export function hide() {
  clearInterval(timer);
  if (live) live.stop();
  live = null;
}
