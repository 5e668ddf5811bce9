// SPDX-License-Identifier: MIT
// System: services, threads, runtime figures, the event bus, restarting the gateway.
import { api, confirmAction } from './api.js';
import { clear, duration, el, num, table } from './util.js';

let box;
let timer;

export function init(node) {
  box = el('div', { id: 'system-box' });
  clear(node).append(box, el('div', { class: 'buttons' }, [
    el('button', { class: 'danger', id: 'restart-gateway', onclick: restart, text: 'Restart the gateway' }),
  ]));
}

function figures(rt, bus) {
  const mb = (b) => `${num(b / 1048576, 1)} MiB`;
  const rows = [
    ['Uptime', duration(rt.uptime_s)],
    ['CPU time', `${num(rt.cpu_s, 1)} s (user ${num(rt.cpu_user_s, 1)}, system ${num(rt.cpu_system_s, 1)})`],
    ['Memory', `${mb(rt.rss_bytes)} resident, ${rt.threads} threads`],
    ['HTTP', `${rt.http.requests} requests (4xx ${rt.http.status_4xx}, 5xx ${rt.http.status_5xx}, rate-limited ${rt.http.rate_limited})`],
    ['WebSocket', rt.ws ? `${rt.ws.clients} clients, ${rt.ws.messages_sent} messages sent, ${rt.ws.clients_dropped} slow clients closed` : 'not running'],
    ['CAN', `tx ${rt.can.tx_frames} · rx ${rt.can.rx_frames} · dropped ${rt.can.tx_dropped} · errors ${rt.can.bus_errors}`],
    ['Alerts', rt.alerts ? `${rt.alerts.active} active, ${rt.alerts.raised_total} raised` : 'not running'],
    ['Event bus', `${bus.published} published, ${bus.delivered} delivered, ${bus.dropped} dropped, ${bus.subscribers} subscribers`],
  ];
  return table(['', ''], rows.map(([k, v]) => el('tr', {}, [el('th', { text: k }), el('td', { text: v })])));
}

// The figures a service reports about itself (MQTT: connection, messages, commands).
function serviceFigures(mods) {
  const withCounters = mods.filter((m) => m.counters);
  if (!withCounters.length) return [];
  const label = (k) => k.replace(/_total$/, '').replaceAll('_', ' ');
  return [el('h2', { text: 'Service figures' }),
    el('div', { class: 'card' }, table(['Service', 'Figures'], withCounters.map((m) => el('tr', {}, [
      el('th', { text: m.name }),
      el('td', { class: 'service-figures', text: Object.entries(m.counters).map(([k, v]) => `${label(k)} ${v}`).join(' · ') }),
    ]))))];
}

async function load() {
  try {
    const [mods, tasks, rt, bus] = await Promise.all([api('GET', '/api/system/modules'), api('GET', '/api/system/tasks'),
      api('GET', '/api/metrics/runtime'), api('GET', '/api/event-bus/metrics')]);
    box.replaceChildren(
      el('h2', { text: 'Services' }),
      el('div', { class: 'card' }, table(['Service', 'State', { class: 'hide-narrow', text: 'For' }, 'Last error'],
        mods.map((m) => el('tr', {}, [el('td', { text: m.name }),
          el('td', {}, el('span', { class: `pill ${m.state === 'running' ? 'ok' : m.state === 'disabled' ? 'muted' : 'bad'}`, text: m.state })),
          el('td', { class: 'hide-narrow', text: duration(Math.round(m.for_ms / 1000)) }),
          el('td', { text: m.last_error || '' })])))),
      ...serviceFigures(mods),
      el('h2', { text: 'Runtime' }),
      el('div', { class: 'card' }, figures(rt, bus)),
      el('h2', { text: 'TinyBMS polling' }),
      el('div', { class: 'card' }, table(['String', 'Link', { class: 'num', text: 'Requests' }, { class: 'num', text: 'Errors' },
        { class: 'num', text: 'Cycle p50/p99 ms' }],
      rt.poll.map((p) => el('tr', {}, [el('td', { text: `${p.string} ${p.name}` }), el('td', { text: p.link }),
        el('td', { class: 'num', text: String(p.count) }), el('td', { class: 'num', text: String(p.errors) }),
        el('td', { class: 'num', text: `${num(p.cycle_p50_ms, 1)} / ${num(p.cycle_p99_ms, 1)}` })])))),
      el('h2', { text: 'Threads' }),
      el('div', { class: 'card' }, table(['TID', 'Name', 'State', { class: 'num', text: 'CPU s' }],
        tasks.map((t) => el('tr', {}, [el('td', { text: String(t.tid) }), el('td', { text: t.name }), el('td', { text: t.state }),
          el('td', { class: 'num', text: num(t.cpu_user_s + t.cpu_system_s, 2) })])))),
    );
  } catch (e) {
    box.replaceChildren(el('div', { class: 'banner bad', text: e.message }));
  }
}

async function restart() {
  if (!(await confirmAction('Restart the gateway now? The inverter loses the BMS for a few seconds.'))) return;
  try {
    await api('POST', '/api/system/restart', { target: 'gateway' });
    box.prepend(el('div', { class: 'banner warning', text: 'Restarting: the page reconnects by itself.' }));
  } catch (e) {
    box.prepend(el('div', { class: 'banner bad', text: e.message }));
  }
}

export function show() {
  load();
  timer = setInterval(load, 5000);
}

export function hide() {
  clearInterval(timer);
}
