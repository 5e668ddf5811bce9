// SPDX-License-Identifier: MIT
// Overview: state of charge, voltage, current, power, temperatures, limits, time to full/empty.
import { DASH, card, clear, duration, el, num, setText, table } from './util.js';

let root;
let stringsBody;
let refusedList;

export function init(node, ctx) {
  root = node;
  const soc = el('div', { class: 'soc-bar' }, el('div', { id: 'ov-soc-bar' }));
  clear(root).append(
    el('div', { class: 'banner', id: 'ov-banner', hidden: true }),
    el('div', { class: 'grid' }, [
      card('State of charge', 'ov-soc', '%', soc),
      card('Voltage', 'ov-voltage', 'V'),
      card('Current', 'ov-current', 'A'),
      card('Power', 'ov-power', 'W'),
      card('Temperature', 'ov-temp', '°C', el('div', { class: 'sub', id: 'ov-temp-range' })),
      card('State', 'ov-state', '', el('div', { class: 'sub', id: 'ov-strings' })),
      card('Time to full / empty', 'ov-time', '', el('div', { class: 'sub', id: 'ov-time-what' })),
      card('Cells', 'ov-spread', 'mV spread', el('div', { class: 'sub', id: 'ov-cells' })),
    ]),
    el('h2', { text: 'Charge limits sent to the inverter' }),
    el('div', { class: 'banner warning', id: 'ov-refused', hidden: true }, [
      el('strong', { text: 'TinyBMS settings not used' }),
      el('span', { class: 'muted', text: ' — less safe than the configuration, so the configured values are in force:' }),
      (refusedList = el('ul', { id: 'ov-refused-list' })),
    ]),
    el('div', { class: 'card' }, [
      el('div', { class: 'sub', id: 'ov-phase' }),
      el('div', { class: 'sub' }, ['Temperature for the charge rules: ',
        el('span', { id: 'ov-temp-source', text: DASH })]),
      table(['Limit', { class: 'num', text: 'Value' }, 'Reason'], [
        limitRow('Charge voltage (CVL)', 'cvl', 'V'),
        limitRow('Charge current (CCL)', 'ccl', 'A'),
        limitRow('Discharge current (DCL)', 'dcl', 'A'),
        limitRow('Discharge voltage (DVL)', 'dvl', 'V'),
      ]),
    ]),
    el('h2', { text: 'Strings' }),
    el('div', { class: 'card' }, table(
      ['String', 'Link', { class: 'num', text: 'SOC %' }, { class: 'num', text: 'V' },
        { class: 'num', text: 'A' }, 'BMS status', { class: 'num hide-narrow', text: 'Age' }],
      (stringsBody = el('tbody')),
    )),
    el('h2', { text: 'Energy' }),
    el('div', { class: 'grid' }, [card('Charged', 'ov-charged', 'kWh'), card('Discharged', 'ov-discharged', 'kWh')]),
  );
  ctx.onStatus(update);
}

function limitRow(label, id, unit) {
  return el('tr', {}, [
    el('td', { text: label }),
    el('td', { class: 'num' }, [el('span', { id: `ov-${id}`, text: DASH }), ` ${unit}`]),
    el('td', { id: `ov-${id}-why`, class: 'muted' }),
  ]);
}

function update(s) {
  const sys = s.system;
  setText('ov-soc', num(sys.soc_pct, 1));
  document.getElementById('ov-soc-bar').style.width = `${Math.max(0, Math.min(100, sys.soc_pct || 0))}%`;
  setText('ov-voltage', num(sys.pack_voltage_v, 2));
  setText('ov-current', num(sys.current_a, 1));
  setText('ov-power', num(sys.power_w, 0));
  setText('ov-temp', num(sys.max_temperature_c, 1));
  setText('ov-temp-range', sys.temperature_count
    ? `min ${num(sys.min_temperature_c, 1)} · avg ${num(sys.avg_temperature_c, 1)} °C` : 'no sensor connected');
  setText('ov-state', sys.state);
  setText('ov-strings', `${sys.strings_online} of ${sys.strings_configured} strings online`);
  const charging = sys.time_to_full_s !== null;
  setText('ov-time', charging ? duration(sys.time_to_full_s) : duration(sys.time_to_empty_s));
  setText('ov-time-what', charging ? 'until full' : sys.time_to_empty_s !== null ? 'until empty' : 'not charging or discharging');
  setText('ov-spread', num(sys.cell_spread_mv));
  setText('ov-cells', sys.min_cell_mv === null ? DASH
    : `min ${sys.min_cell_mv} · max ${sys.max_cell_mv} mV${sys.balancing ? ' · balancing' : ''}`);
  const l = s.limits;
  setText('ov-phase', l.valid ? `Phase: ${l.phase}` : 'No valid limits: the inverter is not told to charge');
  for (const [id, dec] of [['cvl', 2], ['ccl', 1], ['dcl', 1], ['dvl', 2]]) {
    setText(`ov-${id}`, num(l[`${id}_v`] ?? l[`${id}_a`], dec));
    setText(`ov-${id}-why`, l[`${id}_reason`] || DASH);
  }
  tempSource(l.temp_source);
  refused(l);
  setText('ov-charged', num(s.energy.charged_wh / 1000, 2));
  setText('ov-discharged', num(s.energy.discharged_wh / 1000, 2));
  banner(s);
  strings(s);
}

// Where the temperature for the charge rules comes from; anything but the battery sensors is
// a degraded state (derated charging, or none at all).
function tempSource(src) {
  const n = document.getElementById('ov-temp-source');
  setText('ov-temp-source', src ?? DASH);
  n.className = src === 'battery sensors' || !src ? '' : src === 'none' ? 'bad' : 'warning';
}

function limitValue(v, unit) {
  return `${num(v, unit === 'mV' ? 0 : 1)} ${unit === 'degC' ? '°C' : unit}`;
}

// The TinyBMS registers refused as less safe than the configuration, one line each.
function refused(l) {
  const list = l.refused || [];
  const box = document.getElementById('ov-refused');
  box.hidden = list.length === 0;
  const items = list.map((r) => el('li', { dataset: { string: r.string, threshold: r.threshold } }, [
    el('strong', { text: `S${r.string} ${r.threshold}` }),
    `: register ${limitValue(r.bms_value, r.unit)}, configured ${limitValue(r.config_value, r.unit)} in force`,
  ]));
  const more = (l.refused_count || 0) - list.length;
  if (more > 0) items.push(el('li', { class: 'muted', text: `and ${more} more` }));
  refusedList.replaceChildren(...items);
}

function banner(s) {
  const b = document.getElementById('ov-banner');
  const c = s.control || {};
  let text = '';
  let cls = 'warning';
  if (s.system.strings_online === 0) {
    text = 'No TinyBMS delivers data: the inverter is not told to charge.';
    cls = 'bad';
  } else if (s.stale) {
    text = 'The battery data is stale.';
  } else if (s.system.fault) {
    text = 'A TinyBMS reports a fault.';
    cls = 'bad';
  }
  if (c.charge_blocked) text += ` Charging is blocked by ${c.charge_blocked_by}.`;
  if (c.discharge_blocked) text += ` Discharging is blocked by ${c.discharge_blocked_by}.`;
  b.hidden = !text;
  b.className = `banner ${cls}`;
  b.textContent = text.trim();
}

function strings(s) {
  const rows = s.strings.map((st) => el('tr', {}, [
    el('td', { text: `${st.string} ${st.name}` }),
    el('td', {}, el('span', { class: `pill ${st.online && !st.stale ? 'ok' : 'bad'}`, text: st.link.state })),
    el('td', { class: 'num', text: num(st.soc_pct, 1) }),
    el('td', { class: 'num', text: num(st.pack_voltage_v, 2) }),
    el('td', { class: 'num', text: num(st.current_a, 1) }),
    el('td', { text: st.status }),
    el('td', { class: 'num hide-narrow', text: st.age_ms === null ? DASH : `${num(st.age_ms / 1000, 1)} s` }),
  ]));
  stringsBody.replaceChildren(...rows);
}
