// SPDX-License-Identifier: MIT
// The WebSocket channels with a real client against the running daemon: message shapes, the
// inbound limits, the client limit, the token, the telemetry pace and a client that never reads.
// The pace is judged by the daemon's own stamps (time_ms when it encodes a status, t_ms of a
// frame), never by when this process got to read a message; waits are give-up limits.
// usage: node ws.test.mjs BUILD_DIR SOURCE_DIR
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Daemon, GIVE_UP_MS, Simulator, waitFor } from './harness.mjs';
import { Client, closedWithin } from './wsclient.mjs';

// Gaps between consecutive stamps.
function spacing(stamps) {
  return stamps.slice(1).map((t, i) => t - stamps[i]);
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
}

// The ws thread takes a new configuration at its tick (once a second), where it also reports
// progress (/api/system/modules). Resolves with a time of this clock after which a tick that began
// after t surely ran.
async function wsTickAfter(d, t) {
  return waitFor(async () => {
    const t0 = Date.now();
    const ws = (await d.req('GET', '/api/system/modules')).json.find((m) => m.name === 'ws');
    const t1 = Date.now();
    return ws.progress_age_ms !== null && t0 - ws.progress_age_ms > t ? t1 - ws.progress_age_ms : 0;
  }, GIVE_UP_MS, 'a tick of the ws thread');
}

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
    const s = await c.next((m) => 'generation' in m, GIVE_UP_MS, 'the status');
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
    const ev = await c.next((m) => m.type === 'config_changed', GIVE_UP_MS, 'config_changed');
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
      (await c.next((m) => m.type === 'raised' && m.alert.type === 'string_offline', GIVE_UP_MS, 'the raised alert')).alert;
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
    const e = await closedWithin(c);
    assert.equal(e.code, 1008);
    assert.match(e.reason, /unknown channel/);
  });

  it('closes a client that sends more than 10 messages a second (1008)', async () => {
    const c = await open('/ws/events');
    for (let i = 0; i < 11; i++) c.send({ type: 'ping' });
    const e = await closedWithin(c);
    assert.equal(e.code, 1008);
    assert.match(e.reason, /10 messages a second/);
    assert.equal(c.messages.filter((m) => m.json.type === 'pong').length <= 10, true);
  });

  it('closes a client that sends more than 32 KiB at once (1009)', async () => {
    const c = await open('/ws/events');
    c.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(33 * 1024) }));
    const e = await closedWithin(c);
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
    const e = await closedWithin(extra);
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
    const e = await closedWithin(no);
    assert.equal(e.code, 1008);
    assert.match(e.reason, /API token/);
    const wrong = new Client(d.wsBase + '/ws/telemetry?token=nope-nope-nope-nope');
    assert.equal((await closedWithin(wrong)).code, 1008);
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
      GIVE_UP_MS, 'fresh data from the simulator');
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
    await waitFor(() => c.messages.length >= 14, GIVE_UP_MS, '13 telemetry broadcasts');
    const ms = c.messages.map((m) => ({ t: m.json.time_ms, g: m.json.generation }));
    for (let i = 1; i < ms.length; i++)
      assert.ok(ms[i].g > ms[i - 1].g, 'a generation was sent twice or out of order');
    // the first message is the status on connect; from there on the broadcasts are at least the
    // interval (250 ms) less the fifth of it (at most 50 ms) allowed for the poll's jitter apart,
    // less 2 ms for the whole milliseconds of the two clocks involved
    const gaps = spacing(ms.slice(1).map((m) => m.t));
    assert.ok(Math.min(...gaps) >= 200 - 2, `broadcasts ${gaps.join(', ')} ms apart`);
    // polls every 100 ms: the interval, not the poll, sets the pace
    assert.ok(median(gaps) <= 2 * 250, `broadcasts ${gaps.join(', ')} ms apart`);
    // a longer interval applies from the ws thread's next tick (once a second) on
    const r = await d.req('POST', '/api/config', { body: { ws: { telemetry_min_interval_ms: 1000 } }, auth: true });
    assert.equal(r.status, 200);
    const applied = await wsTickAfter(d, Date.now());
    const after = () => c.messages.filter((m) => m.json.time_ms > applied).map((m) => m.json.time_ms);
    await waitFor(() => after().length >= 5, GIVE_UP_MS, '5 broadcasts at the longer interval');
    const slow = spacing(after());
    assert.ok(Math.min(...slow) >= 950 - 2, `broadcasts ${slow.join(', ')} ms apart at 1 s`);
    assert.ok(median(slow) <= 2 * 1000, `broadcasts ${slow.join(', ')} ms apart at 1 s`);
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
    const ev = await c.next((m) => m.type === 'bms_reset', GIVE_UP_MS, 'the bms_reset event');
    assert.equal(ev.string, 1);
    await c.close();
  });

  it('closes a client that does not read, and nobody else waits for it', async () => {
    const fast = await open('/ws/telemetry');
    const stream = await open('/ws/uart');
    await fast.next((m) => 'generation' in m);
    await stream.next((m) => 'hex' in m);
    const slowPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'slow_client.py');
    const slow = spawn('python3', [slowPath, String(d.wsPort), '/ws/uart'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    slow.stdout.on('data', (b) => { out += b; });
    try {
      const t0 = Date.now();
      await waitFor(() => out.includes('open'), GIVE_UP_MS, 'the slow client');
      await waitFor(async () => (await d.req('GET', '/api/metrics/runtime')).json.ws.clients_dropped >= 1,
        GIVE_UP_MS, 'the slow client to be closed');
      const t1 = Date.now();
      // the others got their messages the whole time, from before the slow client came to
      // after it was closed: judged by the daemon's own stamps, free of stalls of this process
      const around = (msgs, stamp) => {
        const from = msgs.findLastIndex((m) => stamp(m) <= t0);
        const to = msgs.findIndex((m) => stamp(m) >= t1);
        return from >= 0 && to > from ? msgs.slice(from, to + 1) : null;
      };
      const tel = () => around(fast.messages.map((m) => m.json), (m) => m.time_ms);
      const frames = () => around(stream.messages.map((m) => m.json), (m) => m.t_ms);
      await waitFor(() => tel() && frames(), GIVE_UP_MS, 'messages after the close');
      // The daemon closes a client whose queue stayed full for 2 s: a thread that waited for it
      // would leave the others without a message that long. time_ms is when the ws thread
      // encoded a status; t_ms when the poller published a frame (a stream that stalls loses
      // frames from its bus ring: a gap). The gaps of the poller's own pace are well below.
      for (const [what, stamps] of [['status', tel().map((m) => m.time_ms)],
        ['RTU frame', frames().map((m) => m.t_ms)]]) {
        const gaps = spacing(stamps);
        assert.ok(Math.max(...gaps) < 2000, `${what} messages ${gaps.join(', ')} ms apart`);
      }
      await waitFor(async () => (await d.req('GET', '/api/metrics/runtime')).json.ws.clients === 2,
        GIVE_UP_MS, 'only the two readers left');
      const rt = (await d.req('GET', '/api/metrics/runtime')).json.ws;
      assert.ok(rt.messages_dropped >= 1);
    } finally {
      slow.stdin.end();
      slow.kill();
      await fast.close();
      await stream.close();
    }
  });
});
