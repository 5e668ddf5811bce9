// SPDX-License-Identifier: MIT
// The REST API over real HTTP against the running daemon: every endpoint, every error code,
// the token, limits, and a configuration change that survives a restart. Waits are give-up
// limits (GIVE_UP_MS), never what a test measures.
// usage: node rest.test.mjs BUILD_DIR SOURCE_DIR
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Daemon, GIVE_UP_MS, Simulator, rawHttp, waitFor, within } from './harness.mjs';

const GETS = ['/api/status', '/api/config', '/api/metrics/runtime', '/api/event-bus/metrics',
  '/api/system/tasks', '/api/system/modules', '/api/alerts/config', '/api/history',
  '/api/alerts/active', '/api/alerts/history'];

describe('REST API', () => {
  const d = new Daemon({ http: 'request_timeout_s = 2;' });
  d.webRoot = path.join(d.dir, 'www');
  fs.mkdirSync(d.webRoot);
  fs.writeFileSync(path.join(d.webRoot, 'index.html'), '<!doctype html><title>t</title>\n');
  before(() => d.start());
  after(async () => {
    await d.stop();
    d.cleanup();
  });

  it('answers every read endpoint with JSON', async () => {
    for (const p of GETS) {
      const r = await d.req('GET', p);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      assert.match(r.headers.get('content-type'), /^application\/json/, p);
      assert.ok(r.json !== undefined, `${p} is not JSON`);
    }
  });

  it('reports the system with units in the names', async () => {
    const r = await d.req('GET', '/api/status');
    const s = r.json;
    assert.equal(typeof s.generation, 'number');
    assert.equal(s.strings.length, 1);
    assert.equal(s.strings[0].string, 1);
    assert.equal(s.strings[0].name, 'house');
    assert.equal(s.stale, true); // nothing polled: no device
    assert.equal(s.system.soc_pct, null);
    assert.equal(s.alarms.length, 13);
    for (const k of ['pack_voltage_v', 'current_a', 'soc_pct', 'min_cell_mv', 'time_to_full_s'])
      assert.ok(k in s.system, k);
  });

  it('lists the services, threads and runtime figures', async () => {
    const mods = (await d.req('GET', '/api/system/modules')).json;
    const http = mods.find((m) => m.name === 'http');
    assert.equal(http.state, 'running');
    assert.equal(http.enabled, true);
    assert.equal(mods.find((m) => m.name === 'alerts').state, 'running');
    const tasks = (await d.req('GET', '/api/system/tasks')).json;
    assert.ok(tasks.length >= 3);
    assert.ok(tasks.every((t) => typeof t.tid === 'number' && t.name && t.state));
    const rt = (await d.req('GET', '/api/metrics/runtime')).json;
    assert.ok(rt.rss_bytes > 1e5 && rt.uptime_s >= 0 && rt.http.requests > 0);
    assert.equal(rt.poll.length, 1);
  });

  it('serves Prometheus text', async () => {
    const r = await d.req('GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    assert.match(r.text, /^# TYPE bmsgw_uptime_seconds gauge$/m);
    assert.match(r.text, /^bmsgw_string_online\{string="1",name="house"\} 0$/m);
    for (const line of r.text.split('\n'))
      if (line && !line.startsWith('#')) assert.match(line, /^[a-z_]+(\{[^}]*\})? [-+0-9.eNaIf]+$/);
  });

  it('answers unknown paths with 404 and wrong methods with 405 and Allow', async () => {
    let r = await d.req('GET', '/api/nope');
    assert.equal(r.status, 404);
    assert.match(r.json.error, /\/api\/nope/);
    r = await d.req('PUT', '/api/config', { body: {}, auth: true });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD, POST');
    assert.ok(r.json.error);
    r = await d.req('DELETE', '/api/status', { auth: true });
    assert.equal(r.status, 405);
    r = await d.req('POST', '/index.html', { body: {} });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
  });

  it('needs the bearer token for every change', async () => {
    let r = await d.req('POST', '/api/config', { body: { log: { level: 'debug' } } });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /^Bearer/);
    assert.match(r.json.error, /Authorization: Bearer/);
    r = await d.req('POST', '/api/config', { body: {}, auth: 'Bearer not-the-token-at-all' });
    assert.equal(r.status, 403);
    r = await d.req('POST', '/api/config', { body: {}, auth: `Basic ${d.token}` });
    assert.equal(r.status, 401);
    r = await d.req('POST', '/api/config', { body: {}, auth: true });
    assert.equal(r.status, 200);
  });

  it('keeps the token file private and never returns the token', async () => {
    const st = fs.statSync(d.tokenFile);
    assert.equal(st.mode & 0o777, 0o600);
    assert.match(d.token, /^[0-9a-f]{64}$/);
    for (const p of [...GETS, '/metrics']) {
      const r = await d.req('GET', p);
      assert.ok(!r.text.includes(d.token), `${p} shows the token`);
    }
  });

  it('rejects malformed, mistyped and oversize bodies', async () => {
    let r = await d.req('POST', '/api/config', { body: '{"bms": {"poll_interval_ms": 300,}', raw: true, auth: true, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.match(r.json.error, /malformed JSON at line 1, column \d+/);
    r = await d.req('POST', '/api/config', { body: 'bms.poll_interval_ms=300', raw: true, auth: true, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 415);
    r = await d.req('POST', '/api/config', { body: '[]', raw: true, auth: true, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 422);
    const big = JSON.stringify({ log: { level: 'x'.repeat(40000) } });
    r = await d.req('POST', '/api/config', { body: big, raw: true, auth: true, headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 413);
    assert.match(r.json.error, /32768/);
    // the same without a Content-Length (chunked): read, counted, refused
    const chunked = `POST /api/config HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${d.token}\r\n` +
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
      `${(40000).toString(16)}\r\n${'a'.repeat(40000)}\r\n0\r\n\r\n`;
    const raw = await rawHttp(d.httpPort, chunked);
    assert.match(raw.text, /^HTTP\/1\.1 413 /);
    assert.match(raw.text, /"error":/);
  });

  it('names the field and the allowed range of an invalid value (422)', async () => {
    let r = await d.req('POST', '/api/config', { body: { bms: { poll_interval_ms: 50 } }, auth: true });
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'bms.poll_interval_ms');
    assert.match(r.json.error, /100\.\.5000 ms \(got 50\)/);
    r = await d.req('POST', '/api/config', { body: { bms: { poll_intervall_ms: 300 } }, auth: true });
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'bms.poll_intervall_ms');
    r = await d.req('POST', '/api/config', { body: { can: { on_stale: 'sometimes' } }, auth: true });
    assert.equal(r.status, 422);
    assert.match(r.json.error, /silence, block/);
    r = await d.req('POST', '/api/config', { body: { state_dir: '/tmp' }, auth: true });
    assert.equal(r.status, 422);
    r = await d.req('POST', '/api/alerts/config', { body: { imbalance_warning_mv: 'many' }, auth: true });
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'alarms.imbalance_warning_mv');
    const overlay = path.join(d.state, 'runtime.conf');
    const kept = fs.existsSync(overlay) ? fs.readFileSync(overlay, 'utf8') : '';
    for (const k of ['poll_interval', 'on_stale', 'state_dir', 'imbalance_warning_mv'])
      assert.ok(!kept.includes(k), `refused change of ${k} was persisted`);
  });

  it('answers 503 for a component that is not running and 501 for updates', async () => {
    let r = await d.req('GET', '/api/can/status');
    assert.equal(r.status, 503);
    assert.match(r.json.error, /CAN service is disabled|built without the CAN service/);
    r = await d.req('POST', '/api/ota', { body: {}, auth: true });
    assert.equal(r.status, 501);
    assert.equal(r.json.error, 'updates are installed with apt (.deb)');
  });

  it('checks query arguments', async () => {
    let r = await d.req('GET', '/api/history?minutes=0');
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'minutes');
    r = await d.req('GET', '/api/history?minutes=5');
    assert.equal(r.status, 200);
    assert.equal(r.json.interval_s, 10);
    assert.ok(Array.isArray(r.json.t_ms) && Array.isArray(r.json.soc_pct));
  });

  it('serves the dashboard and Chart.js, and nothing outside them', async () => {
    let r = await d.req('GET', '/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.equal(r.text, '<!doctype html><title>t</title>\n');
    r = await d.req('GET', '/chart.js/chart.min.js');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/javascript/);
    for (const p of ['/../../etc/passwd', '/%2e%2e/etc/passwd', '/nothing.js', '/.git/config']) {
      const raw = await rawHttp(d.httpPort, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(raw.text, /^HTTP\/1\.1 404 /, p);
      assert.match(raw.text, /\{"error":/, p);
    }
    r = await d.req('HEAD', '/api/status');
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
  });

  it('closes a connection that stalls mid-request', async () => {
    // request_timeout_s = 2: not before, and within ten times that (a limit well past a busy
    // machine's delays, well short of a timeout that was not applied)
    const r = await rawHttp(d.httpPort, 'GET /api/status HTTP/1.1\r\nHost: x\r\n', 20000);
    assert.equal(r.closed, true, `still open after ${r.ms} ms`);
    assert.ok(r.ms >= 1500, `closed after ${r.ms} ms`);
  });
});

describe('configuration changes', () => {
  const d = new Daemon();
  before(() => d.start());
  after(async () => {
    await d.stop();
    d.cleanup();
  });

  it('applies live, persists the overlay and survives a restart', async () => {
    let r = await d.req('POST', '/api/config', {
      body: { bms: { stale_after_ms: 4000 }, ws: { max_clients: 7 }, alarms: { imbalance_alarm_mv: 90 } },
      auth: true,
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.restart_required, ['ws.max_clients']);
    assert.equal(r.json.config.bms.stale_after_ms, 4000);
    const overlay = fs.readFileSync(path.join(d.state, 'runtime.conf'), 'utf8');
    assert.match(overlay, /stale_after_ms = 4000;/);
    r = await d.req('GET', '/api/config');
    assert.equal(r.json.bms.stale_after_ms, 4000);
    r = await d.req('POST', '/api/alerts/config', { body: { debounce_ms: 500 }, auth: true });
    assert.equal(r.status, 200);
    assert.equal(r.json.config.debounce_ms, 500);
    assert.equal(r.json.config.imbalance_alarm_mv, 90);

    const e = await d.stop();
    assert.equal(e.code, 0);
    await d.start();
    r = await d.req('GET', '/api/config');
    assert.equal(r.json.bms.stale_after_ms, 4000);
    assert.equal(r.json.ws.max_clients, 7);
    assert.equal(r.json.alarms.imbalance_alarm_mv, 90);
    assert.equal(r.json.alarms.debounce_ms, 500);
  });

  it('restarts the gateway on request (exit status 75)', async () => {
    const r = await d.req('POST', '/api/system/restart', { body: { target: 'gateway' }, auth: true });
    assert.equal(r.status, 202);
    assert.deepEqual(r.json, { restarting: 'gateway' });
    const e = await within(d.exited, GIVE_UP_MS, 'the exit');
    assert.equal(e.code, 75);
  });
});

describe('alerts', () => {
  // no TinyBMS answers here, so the string goes offline: an alert after the debounce
  const d = new Daemon({ extra: 'alarms = { debounce_ms = 300; };\n' });
  before(() => d.start());
  after(async () => {
    await d.stop();
    d.cleanup();
  });

  const offline = async () => {
    const r = await d.req('GET', '/api/alerts/active');
    return r.json.find((a) => a.type === 'string_offline');
  };

  it('raises, acknowledges, keeps a history and survives a restart', async () => {
    const a = await waitFor(offline, GIVE_UP_MS, 'the string_offline alert');
    assert.equal(a.severity, 'alarm');
    assert.equal(a.string, 1);
    assert.equal(a.active, true);
    assert.equal(a.acknowledged, false);
    assert.match(a.message, /No fresh data from string 1 'house'/);
    assert.ok(Date.parse(a.raised_at) > Date.now() - 60000);

    let r = await d.req('POST', '/api/alerts/acknowledge', { body: { id: a.id + 1000 }, auth: true });
    assert.equal(r.status, 404);
    assert.equal(r.json.field, 'id');
    r = await d.req('POST', '/api/alerts/acknowledge', { body: { id: 'x' }, auth: true });
    assert.equal(r.status, 422);
    r = await d.req('POST', '/api/alerts/acknowledge', { body: { id: a.id } });
    assert.equal(r.status, 401);
    r = await d.req('POST', '/api/alerts/acknowledge', { body: { id: a.id }, auth: true });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { acknowledged: 1 });
    assert.equal((await offline()).acknowledged, true);
    r = await d.req('POST', '/api/alerts/acknowledge', { body: {}, auth: true });
    assert.deepEqual(r.json, { acknowledged: 0 });

    r = await d.req('GET', '/api/alerts/history?limit=5');
    assert.ok(r.json.some((h) => h.id === a.id && h.acknowledged));
    assert.equal((await d.req('GET', '/api/alerts/history?limit=0')).status, 422);

    // persisted: the same alert, still acknowledged, after a restart
    await waitFor(() => fs.existsSync(path.join(d.state, 'alerts.json')), GIVE_UP_MS, 'alerts.json');
    await d.stop();
    await d.start();
    const b = await offline();
    assert.equal(b.id, a.id);
    assert.equal(b.acknowledged, true);
    assert.equal(b.raised_at, a.raised_at);
    r = await d.req('GET', '/api/alerts/active');
    assert.equal(r.json.filter((x) => x.type === 'string_offline').length, 1);

    r = await d.req('DELETE', '/api/alerts/history');
    assert.equal(r.status, 401);
    r = await d.req('DELETE', '/api/alerts/history', { auth: true });
    assert.equal(r.status, 200);
    assert.deepEqual((await d.req('GET', '/api/alerts/history')).json, []);
    assert.equal((await offline()).id, a.id); // the active one stays
  });
});

describe('connection limit', () => {
  const d = new Daemon({ http: 'max_connections = 4; request_timeout_s = 30;' });
  before(() => d.start());
  after(async () => {
    await d.stop();
    d.cleanup();
  });

  it('holds connections beyond http.max_connections back until one goes', async () => {
    const held = [];
    for (let i = 0; i < 4; i++) {
      // an answered request proves the server took the connection; an unfinished one holds it
      const s = net.connect({ port: d.httpPort, host: '127.0.0.1' });
      let got = '';
      s.on('data', (b) => { got += b; });
      await new Promise((r) => s.once('connect', r));
      s.write('GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor(() => /^HTTP\/1\.1 200 [^]*\r\n\r\n\{[^]*\}$/.test(got), GIVE_UP_MS, `connection ${i + 1} served`);
      s.write('GET /api/status HTTP/1.1\r\nHost: x\r\n');
      held.push(s);
    }
    let answer = '';
    let closed = false;
    const fifth = net.connect({ port: d.httpPort, host: '127.0.0.1' });
    fifth.on('data', (b) => { answer += b; });
    fifth.on('close', () => { closed = true; });
    fifth.on('error', () => {});
    fifth.write('GET /api/event-bus/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    // however long it waits (a busy machine only shortens what this shows), nothing comes while
    // the four are held; once one goes it is served
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(answer, '', 'the fifth connection was served while four were held');
    assert.equal(closed, false);
    for (const s of held) s.destroy();
    await waitFor(() => closed, GIVE_UP_MS, 'the answer to the fifth');
    assert.match(answer, /^HTTP\/1\.1 200 /);
  });
});

describe('rate limit', () => {
  const d = new Daemon({ http: 'rate_limit_per_min = 3;' });
  before(() => d.start());
  after(async () => {
    await d.stop();
    d.cleanup();
  });

  it('refuses changes beyond the limit with 429 and Retry-After, reads go on', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await d.req('POST', '/api/alerts/config', { body: {}, auth: true });
      assert.equal(r.status, 200);
    }
    let r = await d.req('POST', '/api/alerts/config', { body: {}, auth: true });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.match(r.json.error, /at most 3 a minute/);
    // unauthenticated attempts count too: no free guessing
    r = await d.req('POST', '/api/alerts/config', { body: {}, auth: 'Bearer guess-guess-guess' });
    assert.equal(r.status, 429);
    r = await d.req('GET', '/api/status');
    assert.equal(r.status, 200);
  });
});

describe('with the simulated TinyBMS', () => {
  let sim;
  let d;
  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bmsgw-rest-sim-'));
    sim = new Simulator(dir, ['--quiet', '--cells', '12', '--soc', '55', '--seed', '3']);
    await sim.start();
    // a reply timeout and a staleness no pause of the simulator on a busy machine reaches
    d = new Daemon({ dir, device: sim.device, bms: 'timeout_ms = 1000; stale_after_ms = 10000;' });
    await d.start();
    await waitFor(async () => {
      const r = await d.req('GET', '/api/bms/registers?string=1');
      return r.json.settings_valid && (await d.req('GET', '/api/status')).json.system.strings_online === 1;
    }, GIVE_UP_MS, 'fresh data and settings from the simulator');
  });
  after(async () => {
    await d.stop();
    await sim.stop();
    d.cleanup();
  });

  it('reports what the simulator says', async () => {
    const truth = await sim.get();
    const s = (await d.req('GET', '/api/status')).json;
    const st = s.strings[0];
    assert.equal(st.online, true);
    assert.equal(st.cells_mv.length, 12);
    assert.ok(Math.abs(s.system.soc_pct - truth.soc_pct) < 0.5, `SOC ${s.system.soc_pct} vs ${truth.soc_pct}`);
    assert.ok(Math.abs(st.pack_voltage_v - truth.pack_v) < 0.05, `V ${st.pack_voltage_v} vs ${truth.pack_v}`);
    for (let i = 0; i < 12; i++)
      assert.ok(Math.abs(st.cells_mv[i] - truth.cells_mv[i]) <= 3, `cell ${i + 1}`);
    assert.equal(s.stale, false);
    assert.ok(s.age_ms >= 0 && s.age_ms < 10000); // not stale
    assert.equal(s.limits.valid, true);
    assert.ok(s.limits.cvl_v > 0 && s.limits.ccl_reason.length > 0);
    const prom = (await d.req('GET', '/metrics')).text;
    assert.equal((prom.match(/^bmsgw_cell_voltage_volts\{/gm) || []).length, 12);
    assert.match(prom, /^bmsgw_string_online\{string="1",name="house"\} 1$/m);
  });

  it('lists the TinyBMS settings and writes one with read-back', async () => {
    let r = await d.req('GET', '/api/bms/registers?string=1');
    const ov = r.json.registers.find((g) => g.key === 'over_voltage_cutoff_mv');
    assert.equal(ov.value, 3650);
    assert.equal(ov.writable, true);
    assert.deepEqual([ov.min, ov.max], [1200, 4500]);
    r = await d.req('POST', '/api/bms/registers', { body: { string: 1, key: 'over_voltage_cutoff_mv', value: 3640 }, auth: true });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { string: 1, key: 'over_voltage_cutoff_mv', addr: 315, value: 3640, unit: 'mV' });
    assert.equal((await sim.get()).settings.over_voltage_cutoff_mv, 3640);
    r = await d.req('POST', '/api/bms/registers', { body: { string: 1, key: 'over_voltage_cutoff_mv', value: 5000 }, auth: true });
    assert.equal(r.status, 422);
    assert.equal(r.json.field, 'value');
    assert.match(r.json.error, /1200/);
    assert.equal((await sim.get()).settings.over_voltage_cutoff_mv, 3640, 'a refused value reached the BMS');
    r = await d.req('POST', '/api/bms/registers', { body: { string: 1, key: 'pack_voltage_v', value: 1 }, auth: true });
    assert.equal(r.status, 422);
    // the BMS ignores the write: the read-back shows it
    assert.equal(await sim.cmd('fault ignore-writes on'), 'ok');
    r = await d.req('POST', '/api/bms/registers', { body: { string: 1, key: 'over_voltage_cutoff_mv', value: 3630 }, auth: true });
    assert.equal(r.status, 502);
    assert.match(r.json.error, /reads back 3640/);
    assert.equal(await sim.cmd('fault ignore-writes off'), 'ok');
  });

  it('resets the TinyBMS on request', async () => {
    const r = await d.req('POST', '/api/system/restart', { body: { target: 'bms', string: 1 }, auth: true });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { reset: 'bms', string: 1 });
    await waitFor(async () => (await sim.get()).events.some((e) => e.id === 0x61), GIVE_UP_MS, 'the restart event');
    const bad = await d.req('POST', '/api/system/restart', { body: { target: 'bms', string: 2 }, auth: true });
    assert.equal(bad.status, 422);
  });

  it('answers 503 for a register write while the BMS does not answer', async () => {
    assert.equal(await sim.cmd('fault noreply on'), 'ok');
    await waitFor(async () => (await d.req('GET', '/api/status')).json.strings[0].online === false, GIVE_UP_MS, 'the link going down');
    const r = await d.req('POST', '/api/bms/registers', { body: { string: 1, key: 'over_voltage_cutoff_mv', value: 3650 }, auth: true });
    assert.ok([503, 504].includes(r.status), `${r.status} ${r.text}`);
    assert.equal(await sim.cmd('fault noreply off'), 'ok');
    await waitFor(async () => (await d.req('GET', '/api/status')).json.strings[0].online, GIVE_UP_MS, 'the link coming back');
  });
});
