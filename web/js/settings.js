// SPDX-License-Identifier: MIT
// Settings: the configuration form (explained by /api/config/schema, checked by the server,
// its answer shown at the field) and the settings registers of each string's BMS (written after a
// confirm).
import { ApiError, api, confirmAction } from './api.js';
import { DASH, clear, el, num, table } from './util.js';

let form;
let banner;
let regBox;
let regString;
let schema = null;
let config = null;

export function init(node) {
  banner = el('div', { class: 'banner', id: 'settings-banner', hidden: true });
  form = el('form', { id: 'config-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); save(); } });
  regString = el('select', { id: 'reg-string', 'aria-label': 'String', onchange: loadRegisters });
  regBox = el('div', { id: 'registers' });
  clear(node).append(
    el('h2', { text: 'Configuration' }),
    el('p', { class: 'muted', text: 'Changes are checked by the gateway, applied at once where possible and kept in ' +
      'runtime.conf over /etc/bmsgw.conf. Settings marked "restart" take effect after a restart.' }),
    banner,
    form,
    el('h2', { text: 'BMS settings registers' }),
    el('div', { class: 'toolbar' }, [el('label', {}, ['String ', regString]),
      el('button', { type: 'button', onclick: loadRegisters, text: 'Read again' })]),
    regBox,
  );
}

export async function show() {
  try {
    [schema, config] = await Promise.all([api('GET', '/api/config/schema'), api('GET', '/api/config')]);
    renderForm();
    regString.replaceChildren(...config.bms.ports.map((p, i) => el('option', { value: i + 1, text: `${i + 1} ${p.name}` })));
    loadRegisters();
  } catch (e) {
    say(e.message, 'bad');
  }
}

function say(text, cls) {
  banner.hidden = !text;
  banner.className = `banner ${cls}`;
  banner.textContent = text;
}

const last = (key) => key.slice(key.lastIndexOf('.') + 1);

function rangeText(k) {
  const u = k.unit ? ` ${k.unit}` : '';
  if (k.type === 'int' || k.type === 'double') return `${k.min}..${k.max}${u}`;
  if (k.type === 'enum') return k.values.join(', ');
  if (k.type.endsWith('_array')) return `${k.min_items}..${k.max_items} values, each ${k.min}..${k.max}${u}`;
  return '';
}

function input(k, value, path) {
  const common = { 'data-path': path, id: `cfg-${path}`, disabled: !k.api };
  if (k.type === 'bool') return el('input', { ...common, type: 'checkbox', checked: !!value });
  if (k.type === 'enum')
    return el('select', common, k.values.map((v) => el('option', { value: v, text: v, selected: v === value })));
  if (k.type === 'int' || k.type === 'double')
    return el('input', { ...common, type: 'number', step: k.type === 'int' ? 1 : 'any', value: String(value) });
  if (k.type.endsWith('_array')) return el('input', { ...common, type: 'text', value: value.join(', ') });
  return el('input', { ...common, type: 'text', value: String(value ?? '') });
}

function field(k, value, path) {
  const help = [k.help, rangeText(k) && `(${rangeText(k)})`, !k.api && 'Only in the configuration file.']
    .filter(Boolean).join(' ');
  return el('div', { class: 'field', dataset: { key: path } }, [
    el('div', {}, [
      el('div', { class: 'name' }, [el('label', { for: `cfg-${path}`, text: last(k.key) }),
        k.restart ? el('span', { class: 'tag', text: 'restart' }) : null]),
      el('div', { class: 'help', text: help }),
    ]),
    el('div', {}, [input(k, value, path), k.unit ? el('span', { class: 'unit', text: k.unit }) : null]),
    el('div', { class: 'msg' }),
  ]);
}

function fields(keys, values, prefix) {
  const out = [];
  for (const k of keys) {
    const name = last(k.key);
    const path = prefix ? `${prefix}.${name}` : name;
    if (k.type === 'group') {
      out.push(...fields(k.keys, values[name], path));
    } else if (k.type === 'list') {
      values[name].forEach((item, i) => out.push(el('fieldset', { class: 'item' }, [
        el('legend', { text: `${path}[${i}]` }), ...fields(k.keys, item, `${path}[${i}]`)])));
    } else {
      out.push(field(k, values[name], path));
    }
  }
  return out;
}

function renderForm() {
  const groups = schema.map((k) => {
    if (k.type !== 'group') return el('div', { class: 'card' }, field(k, config[k.key], k.key));
    return el('details', { class: 'group', dataset: { group: k.key } }, [
      el('summary', { text: `${k.key} — ${k.help}` }),
      el('div', { class: 'body' }, fields(k.keys, config[k.key], k.key)),
    ]);
  });
  clear(form).append(...groups, el('div', { class: 'buttons' }, [
    el('button', { type: 'button', onclick: () => { say('', 'ok'); renderForm(); }, text: 'Undo changes' }),
    el('button', { type: 'submit', class: 'primary', id: 'config-save', text: 'Save' }),
  ]));
}

// Read one input as JSON; what cannot be read is sent as typed so the gateway names the problem.
function readInput(n, k) {
  if (n.type === 'checkbox') return n.checked;
  if (k && (k.type === 'int' || k.type === 'double')) return n.value.trim() !== '' && !Number.isNaN(Number(n.value)) ? Number(n.value) : n.value;
  if (k && k.type.endsWith('_array')) return n.value.split(',').map((x) => (Number.isNaN(Number(x)) || x.trim() === '' ? x.trim() : Number(x)));
  return n.value;
}

function keyOf(path) {
  const plain = path.replace(/\[\d+\]/g, '');
  const find = (keys) => {
    for (const k of keys) {
      if (k.key === plain) return k;
      if (k.keys) { const f = find(k.keys); if (f) return f; }
    }
    return null;
  };
  return find(schema);
}

// Set obj.a.b[1].c = v (lists are copied whole from the configuration, then changed).
function put(patch, path, v) {
  const parts = path.split('.');
  let o = patch;
  let src = config;
  for (let i = 0; i < parts.length - 1; i++) {
    const m = parts[i].match(/^(\w+)\[(\d+)\]$/);
    if (m) {
      o[m[1]] = o[m[1]] || structuredClone(src[m[1]]);
      o = o[m[1]][Number(m[2])];
      src = src[m[1]][Number(m[2])];
    } else {
      o = o[parts[i]] = o[parts[i]] || {};
      src = src[parts[i]];
    }
  }
  o[parts[parts.length - 1]] = v;
}

function original(path) {
  return path.split('.').reduce((o, p) => {
    const m = p.match(/^(\w+)\[(\d+)\]$/);
    return m ? o[m[1]][Number(m[2])] : o[p];
  }, config);
}

function collect() {
  const patch = {};
  let n = 0;
  for (const inp of form.querySelectorAll('[data-path]')) {
    if (inp.disabled) continue;
    const path = inp.dataset.path;
    const v = readInput(inp, keyOf(path));
    if (JSON.stringify(v) === JSON.stringify(original(path))) continue;
    put(patch, path, v);
    n++;
  }
  return n ? patch : null;
}

async function save() {
  for (const f of form.querySelectorAll('.field.invalid')) {
    f.classList.remove('invalid');
    f.querySelector('.msg').textContent = '';
  }
  const patch = collect();
  if (!patch) {
    say('Nothing changed.', 'ok');
    return;
  }
  try {
    const r = await api('POST', '/api/config', patch);
    config = r.config;
    renderForm();
    say(r.restart_required.length ? `Saved. These take effect after a restart: ${r.restart_required.join(', ')}.`
      : 'Saved and applied.', r.restart_required.length ? 'warning' : 'ok');
  } catch (e) {
    const f = e instanceof ApiError && e.field ? form.querySelector(`.field[data-key="${CSS.escape(e.field)}"]`) : null;
    if (f) {
      f.classList.add('invalid');
      f.querySelector('.msg').textContent = e.message;
      const group = f.closest('details');
      if (group) group.open = true;
      f.scrollIntoView({ block: 'center' });
      say('The gateway refused the change: see the marked field.', 'bad');
    } else {
      say(e.message, 'bad');
    }
  }
}

// ---- BMS registers ----------------------------------------------------------------------------

async function loadRegisters() {
  const n = Number(regString.value || 1);
  try {
    const r = await api('GET', `/api/bms/registers?string=${n}`);
    const bms = r.bms || 'BMS';
    const head = el('p', { class: 'muted', text: r.settings_valid
      ? `Read from the ${bms} ${num(r.settings_age_ms / 1000, 0)} s ago.`
      : `The ${bms} settings have not been read yet: no value is shown.` });
    regBox.replaceChildren(head, el('div', { class: 'card' }, table(
      ['Reg', 'Setting', { class: 'num', text: 'Value' }, { class: 'hide-narrow', text: 'Range' }, 'New value'],
      r.registers.map((g) => regRow(n, bms, g, r.settings_valid)))));
  } catch (e) {
    regBox.replaceChildren(el('div', { class: 'banner warning', text: e.message }));
  }
}

function regRow(string, bms, g, valid) {
  const inp = el('input', { type: 'number', step: 'any', 'aria-label': g.key, disabled: !g.writable || !valid });
  const note = el('div');
  const write = async () => {
    const v = inp.value.trim() === '' ? NaN : Number(inp.value);
    note.className = '';
    note.textContent = '';
    if (!(await confirmAction(`Write ${g.name} = ${inp.value} ${g.unit} to the ${bms} of string ${string}?`))) return;
    try {
      const r = await api('POST', '/api/bms/registers', { string, key: g.key, value: Number.isNaN(v) ? inp.value : v });
      note.className = 'done';
      note.textContent = `written, reads back ${r.value} ${r.unit}`;
      valueCell.textContent = `${r.value} ${r.unit}`;
    } catch (e) {
      note.className = 'msg';
      note.textContent = e.message;
    }
  };
  const valueCell = el('td', { class: 'num', text: g.value === null ? DASH : `${g.value} ${g.unit}` });
  return el('tr', { class: 'reg-row', dataset: { key: g.key } }, [
    el('td', { text: String(g.addr) }),
    el('td', { text: g.name }),
    valueCell,
    el('td', { class: 'hide-narrow muted', text: g.writable ? `${g.min}..${g.max} ${g.unit}` : 'read-only' }),
    el('td', {}, g.writable ? [inp, ' ', el('button', { type: 'button', onclick: write, disabled: !valid, text: 'Write' }), note] : []),
  ]);
}
