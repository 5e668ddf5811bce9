// SPDX-License-Identifier: MIT
// Alerts: the active ones (acknowledge one or all) and the history, kept live by /ws/alerts.
import { api } from './api.js';
import { Live } from './live.js';
import { DASH, clear, dateTime, el, num, table } from './util.js';

let active = [];
let activeBody;
let historyBody;
let msg;
let visible = false;

export function init(node) {
  activeBody = el('tbody', { id: 'alerts-active' });
  historyBody = el('tbody', { id: 'alerts-history' });
  msg = el('div', { class: 'banner', hidden: true });
  clear(node).append(
    msg,
    el('div', { class: 'toolbar' }, [
      el('h2', { text: 'Active' }),
      el('button', { id: 'ack-all', onclick: () => acknowledge({}), text: 'Acknowledge all' }),
    ]),
    el('div', { class: 'card' }, table(['Severity', 'Alert', { class: 'hide-narrow', text: 'Value' }, 'Raised', ''], activeBody)),
    el('div', { class: 'toolbar' }, [
      el('h2', { text: 'History' }),
      el('button', { onclick: clearHistory, text: 'Clear history', class: 'danger' }),
    ]),
    el('div', { class: 'card' }, table(['Severity', 'Alert', 'Raised', 'Cleared', 'Acknowledged'], historyBody)),
  );
  renderActive();
}

function badge() {
  const b = document.getElementById('alert-count');
  const alarms = active.some((a) => a.severity === 'alarm');
  b.hidden = active.length === 0;
  b.textContent = String(active.length);
  b.className = alarms ? 'badge' : 'badge warning';
}

function value(a) {
  if (a.value === null) return DASH;
  return `${num(a.value, a.unit === 'mV' ? 0 : 1)} ${a.unit}${a.threshold !== null ? ` (limit ${num(a.threshold, a.unit === 'mV' ? 0 : 1)})` : ''}`;
}

function renderActive() {
  badge();
  if (active.length === 0) {
    activeBody.replaceChildren(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No active alert.' })));
    return;
  }
  activeBody.replaceChildren(...active.map((a) => el('tr', { dataset: { id: a.id } }, [
    el('td', {}, el('span', { class: `pill ${a.severity}`, text: a.severity })),
    el('td', { text: a.message }),
    el('td', { class: 'hide-narrow', text: value(a) }),
    el('td', { text: dateTime(a.raised_at) }),
    el('td', {}, a.acknowledged ? el('span', { class: 'muted', text: 'acknowledged' })
      : el('button', { class: 'ack', onclick: () => acknowledge({ id: a.id }), text: 'Acknowledge' })),
  ])));
}

async function loadHistory() {
  try {
    const h = await api('GET', '/api/alerts/history?limit=100');
    historyBody.replaceChildren(...(h.length ? h.map((a) => el('tr', {}, [
      el('td', {}, el('span', { class: `pill ${a.severity}`, text: a.severity })),
      el('td', { text: a.message }),
      el('td', { text: dateTime(a.raised_at) }),
      el('td', { text: a.active ? 'active' : dateTime(a.cleared_at) }),
      el('td', { text: a.acknowledged ? dateTime(a.acknowledged_at) : '' }),
    ])) : [el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No alert yet.' }))]));
  } catch (e) {
    showMsg(e.message, 'bad');
  }
}

function showMsg(text, cls) {
  msg.hidden = !text;
  msg.className = `banner ${cls}`;
  msg.textContent = text;
}

async function acknowledge(body) {
  try {
    const r = await api('POST', '/api/alerts/acknowledge', body);
    showMsg(`${r.acknowledged} alert${r.acknowledged === 1 ? '' : 's'} acknowledged.`, 'ok');
  } catch (e) {
    showMsg(e.message, 'bad');
  }
}

async function clearHistory() {
  try {
    await api('DELETE', '/api/alerts/history');
    loadHistory();
  } catch (e) {
    showMsg(e.message, 'bad');
  }
}

function onMessage(m) {
  if (m.type === 'active') {
    active = m.alerts;
  } else if (m.alert) {
    const i = active.findIndex((a) => a.id === m.alert.id);
    if (!m.alert.active) active = active.filter((a) => a.id !== m.alert.id);
    else if (i >= 0) active[i] = m.alert;
    else active.unshift(m.alert);
    if (visible) loadHistory();
  }
  renderActive();
}

export function connect(ctx) {
  new Live('/ws/alerts', onMessage).start(ctx.wsPort);
}

export function show() {
  visible = true;
  loadHistory();
}

export function hide() {
  visible = false;
}
