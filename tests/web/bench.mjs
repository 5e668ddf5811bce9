// SPDX-License-Identifier: MIT
// Benchmark of the web side against the daemon and the simulated TinyBMS (polled every 250 ms):
//   wrk on /api/status (requests/s, p99), next to /api/event-bus/metrics (the HTTP stack alone);
//   WebSocket telemetry to 1 and to 100 clients: the daemon's CPU time per minute, the delay
//   from the snapshot commit to the client (p50/p99), messages per second per client;
//   the daemon's RSS idle and with 100 clients.
// usage: node bench.mjs BUILD_DIR SOURCE_DIR [--seconds N]   (N: length of each WebSocket run)
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Daemon, Simulator, sleep, waitFor } from './harness.mjs';
import { Client } from './wsclient.mjs';

const argSeconds = process.argv.indexOf('--seconds');
const RUN_S = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 60;
const TICKS = 100; // USER_HZ on Linux

function procStat(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS; // utime + stime, seconds
}

function rssMiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) / 1024;
}

function quantile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

function wrk(url, seconds = 10) {
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t2', '-c16', `-d${seconds}s`, '--latency', url], (err, out) => {
      if (err) return reject(err);
      const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
      const m = out.match(/99%\s+([\d.]+)(us|ms|s)/);
      const p99ms = Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
      resolve({ rps, p99ms });
    });
  });
}

// n telemetry clients for seconds: CPU of the daemon, commit-to-receipt delays, rates.
async function fanout(d, n, seconds) {
  const clients = [];
  for (let i = 0; i < n; i++) clients.push(new Client(`${d.wsBase}/ws/telemetry`));
  await Promise.all(clients.map((c) => c.opened));
  await sleep(2000); // settle: everyone had the initial status
  for (const c of clients) c.messages.length = 0;
  const cpu0 = procStat(d.proc.pid);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const cpu = procStat(d.proc.pid) - cpu0;
  const span = (Date.now() - t0) / 1000;
  const rss = rssMiB(d.proc.pid);
  const delays = [];
  let count = 0;
  for (const c of clients) {
    for (const m of c.messages) {
      // the commit's wall time: time_ms - snapshot_age_ms at encoding
      const received = performance.timeOrigin + m.t;
      if (m.json.snapshot_age_ms !== null) delays.push(received - (m.json.time_ms - m.json.snapshot_age_ms));
      count++;
    }
  }
  await Promise.all(clients.map((c) => c.close()));
  delays.sort((a, b) => a - b);
  const held = delays.filter((x) => x > 50).length / Math.max(1, delays.length) * 100;
  const tail = delays.filter((x) => x > 100).length / Math.max(1, delays.length) * 100;
  return { n, cpuPerMin: (cpu / span) * 60, p50: quantile(delays, 0.5), p99: quantile(delays, 0.99),
    max: delays.length ? delays[delays.length - 1] : NaN, held, tail, perClientPerS: count / n / span,
    rss };
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bmsgw-bench-'));
  const sim = new Simulator(dir, ['--quiet', '--seed', '7']);
  await sim.start();
  const d = new Daemon({ dir, device: sim.device, ws: 'max_clients = 200; queue_len = 64;',
    http: 'max_connections = 64;' });
  try {
    await d.start();
    await waitFor(async () => (await d.req('GET', '/api/status')).json.system.strings_online === 1,
      20000, 'fresh data from the simulator');
    const idleRss = rssMiB(d.proc.pid);
    const base = await wrk(`${d.base}/api/event-bus/metrics`);
    const status = await wrk(`${d.base}/api/status`);
    const size = (await d.req('GET', '/api/status')).text.length;
    console.log(`web-bench: GET /api/status (${size} bytes): ${status.rps.toFixed(0)} requests/s, ` +
      `p99 ${status.p99ms.toFixed(2)} ms (wrk -t2 -c16 -d10s)`);
    console.log(`web-bench:   baseline GET /api/event-bus/metrics: ${base.rps.toFixed(0)} requests/s, ` +
      `p99 ${base.p99ms.toFixed(2)} ms`);
    await sleep(3000);
    const one = await fanout(d, 1, Math.min(RUN_S, 30));
    const hundred = await fanout(d, 100, RUN_S);
    for (const r of [one, hundred])
      console.log(`web-bench: telemetry to ${r.n} client(s) for ${r.n === 1 ? Math.min(RUN_S, 30) : RUN_S} s: ` +
        `daemon CPU ${f1(r.cpuPerMin)} s/min, ${f1(r.perClientPerS)} messages/s per client, ` +
        `commit-to-client delay p50 ${f1(r.p50)} ms, p99 ${f1(r.p99)} ms, max ${f1(r.max)} ms ` +
        `(${f1(r.held)} % held > 50 ms, ${f1(r.tail)} % > 100 ms), RSS ${f1(r.rss)} MiB`);
    console.log(`web-bench: daemon RSS idle ${f1(idleRss)} MiB, with 100 WebSocket clients ${f1(hundred.rss)} MiB`);
    const rt = (await d.req('GET', '/api/metrics/runtime')).json;
    console.log(`web-bench: poll cycle p50 ${rt.poll[0].cycle_p50_ms} ms, p99 ${rt.poll[0].cycle_p99_ms} ms; ` +
      `ws messages dropped ${rt.ws.messages_dropped}, slow clients closed ${rt.ws.clients_dropped}`);
  } finally {
    await d.stop();
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
