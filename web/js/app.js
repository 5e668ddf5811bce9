// SPDX-License-Identifier: MIT
// The dashboard: sections behind tabs, live data over the gateway's WebSockets.
import { api } from './api.js';
import { Live } from './live.js';
import { num, setText } from './util.js';
import * as alerts from './alerts.js';
import * as can from './can.js';
import * as cells from './cells.js';
import * as overview from './overview.js';
import * as settings from './settings.js';
import * as system from './system.js';
import * as trends from './trends.js';

const sections = { overview, cells, trends, can, alerts, settings, system };

const ctx = {
  status: null, // the newest /ws/telemetry message (the /api/status shape)
  config: null,
  wsPort: null,
  current: null,
  listeners: [], // called with each new status
  onStatus(fn) { this.listeners.push(fn); },
};

function showSection(name) {
  if (!sections[name]) name = 'overview';
  for (const [n, mod] of Object.entries(sections)) {
    const node = document.getElementById(n);
    const on = n === name;
    if (node.hidden === !on) continue;
    node.hidden = !on;
    if (on && mod.show) mod.show();
    if (!on && mod.hide) mod.hide();
  }
  for (const a of document.querySelectorAll('nav.tabs a'))
    a.classList.toggle('active', a.dataset.section === name);
  ctx.current = name;
}

function setConn(state, detail) {
  const c = document.getElementById('conn');
  const shown = state === 'live' && ctx.status && ctx.status.stale ? 'stale' : state;
  c.dataset.state = shown;
  c.querySelector('.label').textContent =
    shown === 'live' ? 'live' : shown === 'stale' ? 'live, data stale' : shown === 'offline' ? 'offline — reconnecting' : 'connecting';
  c.title = detail || '';
}

function tickAge() {
  const s = ctx.status;
  if (!s) return;
  if (s.age_ms === null) {
    setText('age', 'no data from the BMS');
    return;
  }
  const age = (s.age_ms + (Date.now() - s.time_ms)) / 1000;
  setText('age', `data ${num(age, age < 10 ? 1 : 0)} s old`);
}

let telemetryState = 'connecting';

function onTelemetry(m) {
  if (!('generation' in m)) return;
  ctx.status = m;
  setConn(telemetryState);
  tickAge();
  for (const fn of ctx.listeners) fn(m);
}

async function start() {
  for (const [name, mod] of Object.entries(sections)) mod.init(document.getElementById(name), ctx);
  window.addEventListener('hashchange', () => showSection(location.hash.slice(1)));
  showSection(location.hash.slice(1) || 'overview');
  setInterval(tickAge, 1000);
  for (;;) {
    try {
      ctx.config = await api('GET', '/api/config');
      break;
    } catch (e) {
      setConn('offline', e.message);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
  ctx.wsPort = ctx.config.ws.port;
  const telemetry = new Live('/ws/telemetry', onTelemetry, (st, code, reason) => {
    telemetryState = st;
    setConn(st, reason);
  });
  telemetry.start(ctx.wsPort);
  alerts.connect(ctx);
  for (const mod of Object.values(sections)) if (mod.ready) mod.ready();
}

start();
