// SPDX-License-Identifier: MIT
// Small helpers: formatting numbers, times and durations, building DOM nodes safely.

export const DASH = '—';

export function num(v, decimals = 0) {
  return v === null || v === undefined || Number.isNaN(v) ? DASH : Number(v).toFixed(decimals);
}

export function duration(s) {
  if (s === null || s === undefined) return DASH;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  return `${m} min`;
}

export function clock(ms) {
  return ms ? new Date(ms).toLocaleTimeString([], { hour12: false }) : DASH;
}

export function dateTime(iso) {
  return iso ? new Date(iso).toLocaleString([], { hour12: false }) : DASH;
}

// el('div', {class: 'card', text: 'x'}, [children]); attributes "on*" take handlers.
export function el(tag, attrs = {}, children = []) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') n.textContent = v;
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(n.dataset, v);
    else n.setAttribute(k, v === true ? '' : v);
  }
  for (const c of [].concat(children)) if (c !== null && c !== undefined) n.append(c);
  return n;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

// A table in a horizontally scrolling box; body is an array of rows or a <tbody> to fill later.
export function table(headers, body) {
  const tbody = body instanceof HTMLTableSectionElement ? body : el('tbody', {}, body);
  const named = headers.some((h) => h !== '');
  return el('div', { class: 'scroll' }, el('table', {}, [
    named ? el('thead', {}, el('tr', {}, headers.map((h) => el('th', typeof h === 'string' ? { text: h } : h)))) : null,
    tbody,
  ]));
}

// A label "value unit" card.
export function card(title, id, unit, extra) {
  return el('div', { class: 'card' }, [
    el('h3', { text: title }),
    el('div', { class: 'value' }, [el('span', { id, text: DASH }), unit ? el('small', { text: unit }) : null]),
    extra || null,
  ]);
}

export function setText(id, text) {
  const n = document.getElementById(id);
  if (n && n.textContent !== text) n.textContent = text;
}

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
