// SPDX-License-Identifier: MIT
// The WebSocket channels with a real client against the running daemon: message shapes, the
// inbound limits, the client limit, the token.
// usage: node ws.test.mjs BUILD_DIR SOURCE_DIR
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Daemon, Simulator, sleep, waitFor } from './harness.mjs';
import { Client, closedWithin } from './wsclient.mjs';

describe('WebSocket channels', () => {
  const d = new Daemon({ ws: 'max_clients = 4;', extra: 'alarms = { debounce_ms = 200; };\n' });
  const clients = [];
  const open = async (path, opts) => {
    const c = new Client(d.wsBase + path, opts);
    clients.push(c);
    await c.opened;
    return c;
  };
  before(() => d.start());
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await d.stop();
    d.cleanup();
  });

  it('sends the full status on connect, as /api/status has it', async () => {
    const c = await open('/ws/telemetry');
    const s = await c.next((m) => 'generation' in m, 5000, 'the status');
    const r = await d.req('GET', '/api/status');
    assert.deepEqual(Object.keys(s).sort(), Object.keys(r.json).sort());
    assert.deepEqual(Object.keys(s.system).sort(), Object.keys(r.json.system).sort());
    assert.equal(s.strings[0].name, 'house');
    await c.close();
  });

  it('streams events and answers pings', async () => {
    const c = await open('/ws/events');
    c.send({ type: 'ping' });
    const pong = await c.next((m) => m.type === 'pong');
    assert.equal(typeof pong.t_ms, 'number');
    c.send('not json');
    assert.match((await c.next((m) => m.type === 'error')).error, /malformed JSON/);
    c.send({ type: 'subscribe' });
    assert.match((await c.next((m) => m.type === 'error' && /unknown/.test(m.error))).error, /ping/);
    const r = await d.req('POST', '/api/config', { body: { ws: { telemetry_min_interval_ms: 300 } }, auth: true });
    assert.equal(r.status, 200);
    const ev = await c.next((m) => m.type === 'config_changed', 5000, 'config_changed');
    assert.equal(ev.source, 'api');
    assert.ok(Math.abs(ev.t_ms - Date.now()) < 60000);
    await c.close();
  });

  it('gives the active alerts on connect, then every change', async () => {
    const c = await open('/ws/alerts');
    const first = await c.next((m) => m.type === 'active');
    assert.ok(Array.isArray(first.alerts));
    // no TinyBMS answers: the string goes offline
    const raised = first.alerts.find((a) => a.type === 'string_offline') ||
      (await c.next((m) => m.type === 'raised' && m.alert.type === 'string_offline', 10000, 'the raised alert')).alert;
    const r = await d.req('POST', '/api/alerts/acknowledge', { body: { id: raised.id }, auth: true });
    assert.equal(r.status, 200);
    const ack = await c.next((m) => m.type === 'acknowledged' && m.alert.id === raised.id);
    assert.equal(ack.alert.acknowledged, true);
    assert.equal(ack.alert.severity, 'alarm');
    await c.close();
  });

  it('closes an unknown channel with 1008 and a reason', async () => {
    const c = new Client(d.wsBase + '/ws/nope');
    clients.push(c);
    const e = await closedWithin(c, 5000);
    assert.equal(e.code, 1008);
    assert.match(e.reason, /unknown channel/);
  });

  it('closes a client that sends more than 10 messages a second (1008)', async () => {
    const c = await open('/ws/events');
    for (let i = 0; i < 11; i++) c.send({ type: 'ping' });
    const e = await closedWithin(c, 5000);
    assert.equal(e.code, 1008);
    assert.match(e.reason, /10 messages a second/);
    assert.equal(c.messages.filter((m) => m.json.type === 'pong').length <= 10, true);
  });

  it('closes a client that sends more than 32 KiB at once (1009)', async () => {
    const c = await open('/ws/events');
    c.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(33 * 1024) }));
    const e = await closedWithin(c, 5000);
    assert.equal(e.code, 1009);
    // 32 KiB minus a little is fine
    const ok = await open('/ws/events');
    ok.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(31 * 1024) }));
    await ok.next((m) => m.type === 'pong');
    await ok.close();
  });

  it('refuses clients beyond ws.max_clients with 1013', async () => {
    const held = [];
    for (let i = 0; i < 4; i++) held.push(await open('/ws/events'));
    const extra = new Client(d.wsBase + '/ws/events');
    clients.push(extra);
    const e = await closedWithin(extra, 5000);
    assert.equal(e.code, 1013);
    assert.match(e.reason, /max_clients = 4/);
    await held[0].close();
    const again = await open('/ws/telemetry'); // a slot is free again
    await again.next((m) => 'generation' in m);
    await Promise.all([...held, again].map((c) => c.close()));
    const rt = (await d.req('GET', '/api/metrics/runtime')).json;
    assert.ok(rt.ws.clients_refused >= 1 && rt.ws.closed_policy >= 2, JSON.stringify(rt.ws));
  });
});

describe('WebSocket with http.read_requires_token', () => {
  const d = new Daemon({ http: 'read_requires_token = true;' });
  before(() => d.start());
  after(async () => {
    await d.stop();
    d.cleanup();
  });

  it('needs the token in the query or the Authorization header', async () => {
    const no = new Client(d.wsBase + '/ws/telemetry');
    const e = await closedWithin(no, 5000);
    assert.equal(e.code, 1008);
    assert.match(e.reason, /API token/);
    const wrong = new Client(d.wsBase + '/ws/telemetry?token=nope-nope-nope-nope');
    assert.equal((await closedWithin(wrong, 5000)).code, 1008);
    const q = new Client(`${d.wsBase}/ws/telemetry?token=${d.token}`);
    await q.opened;
    await q.next((m) => 'generation' in m);
    await q.close();
    const h = new Client(d.wsBase + '/ws/telemetry', { headers: { Authorization: `Bearer ${d.token}` } });
    await h.opened;
    await h.next((m) => 'generation' in m);
    await h.close();
  });
});

describe('WebSocket streams with the simulated TinyBMS', () => {
  let sim;
  let d;
  const clients = [];
  const open = async (p) => {
    const c = new Client(d.wsBase + p);
    clients.push(c);
    await c.opened;
    return c;
  };
  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bmsgw-ws-sim-'));
    sim = new Simulator(dir, ['--quiet', '--seed', '5']);
    await sim.start();
    d = new Daemon({ dir, device: sim.device, pollMs: 100, ws: 'queue_len = 4;' });
    await d.start();
    await waitFor(async () => (await d.req('GET', '/api/status')).json.system.strings_online === 1,
      20000, 'fresh data from the simulator');
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await d.stop();
    await sim.stop();
    d.cleanup();
  });

  it('sends one telemetry message per new generation, no more often than the interval allows', async () => {
    const c = await open('/ws/telemetry');
    await c.next((m) => 'generation' in m);
    await sleep(3000);
    const ms = c.messages.map((m) => ({ t: m.t, g: m.json.generation }));
    const gaps = [];
    for (let i = 1; i < ms.length; i++) {
      assert.ok(ms[i].g > ms[i - 1].g, 'a generation was sent twice or out of order');
      gaps.push(ms[i].t - ms[i - 1].t);
    }
    // 250 ms less the 50 ms allowed for jitter, less a little for timer granularity. The times
    // are when this client read the messages: a stall of the test process itself on a busy
    // machine can bunch one pair, a pace that ignores the interval bunches them all.
    const short = gaps.filter((g) => g < 190);
    gaps.sort((a, b) => a - b);
    assert.ok(gaps[Math.floor(gaps.length / 2)] >= 190, `median gap ${gaps[Math.floor(gaps.length / 2)]} ms`);
    assert.ok(short.length <= 1, `messages ${short.map((g) => g.toFixed(1)).join(', ')} ms apart`);
    // polls every 100 ms: the interval, not the poll, sets the pace
    assert.ok(ms.length >= 9 && ms.length <= 17, `${ms.length} messages in 3 s`);
    // a longer interval applies at once
    const r = await d.req('POST', '/api/config', { body: { ws: { telemetry_min_interval_ms: 1000 } }, auth: true });
    assert.equal(r.status, 200);
    await sleep(1500);
    c.messages.length = 0;
    await sleep(3000);
    assert.ok(c.messages.length >= 2 && c.messages.length <= 4, `${c.messages.length} messages in 3 s at 1 s`);
    await d.req('POST', '/api/config', { body: { ws: { telemetry_min_interval_ms: 250 } }, auth: true });
    await c.close();
  });

  it('streams the RTU frames', async () => {
    const c = await open('/ws/uart');
    const tx = await c.next((m) => m.dir === 'tx');
    const rx = await c.next((m) => m.dir === 'rx');
    for (const m of [tx, rx]) {
      assert.equal(m.string, 1);
      assert.match(m.hex, /^aa[0-9a-f]+$/);
      assert.ok(Math.abs(m.t_ms - Date.now()) < 60000);
    }
    assert.match(tx.hex, /^aa03/); // a read request to slave 0xAA
    await c.close();
  });

  it('streams events with strings numbered from 1', async () => {
    const c = await open('/ws/events');
    const r = await d.req('POST', '/api/system/restart', { body: { target: 'bms', string: 1 }, auth: true });
    assert.equal(r.status, 200, r.text);
    const ev = await c.next((m) => m.type === 'bms_reset', 5000, 'the bms_reset event');
    assert.equal(ev.string, 1);
    await c.close();
  });

  it('closes a client that does not read, and nobody else waits for it', async () => {
    const fast = await open('/ws/telemetry');
    const stream = await open('/ws/uart');
    await fast.next((m) => 'generation' in m);
    const slowPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'slow_client.py');
    const slow = spawn('python3', [slowPath, String(d.wsPort), '/ws/uart'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    slow.stdout.on('data', (b) => { out += b; });
    try {
      await waitFor(() => out.includes('open'), 5000, 'the slow client');
      const t0 = performance.now();
      await waitFor(async () => (await d.req('GET', '/api/metrics/runtime')).json.ws.clients_dropped >= 1,
        60000, 'the slow client to be closed');
      const span = (performance.now() - t0) / 1000;
      // the others got their messages at the normal pace the whole time
      const tel = fast.messages.filter((m) => m.t >= t0);
      // gaps between the daemon's own timestamps (time_ms, set when it encodes a status): what
      // the daemon did, free of stalls of this test process on a busy machine
      const gaps = tel.slice(1).map((m, i) => m.json.time_ms - tel[i].json.time_ms);
      assert.ok(tel.length >= span * 2, `${tel.length} telemetry messages in ${span.toFixed(1)} s`);
      assert.ok(Math.max(...gaps) < 1000, `a telemetry gap of ${Math.max(...gaps)} ms`);
      const frames = stream.messages.filter((m) => m.t >= t0).length;
      assert.ok(frames >= span * 5, `${frames} RTU frames in ${span.toFixed(1)} s`);
      const rt = (await d.req('GET', '/api/metrics/runtime')).json.ws;
      assert.equal(rt.clients, 2, 'only the two readers are left');
      assert.ok(rt.messages_dropped >= 1);
    } finally {
      slow.stdin.end();
      slow.kill();
      await fast.close();
      await stream.close();
    }
  });
});
