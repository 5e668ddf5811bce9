// SPDX-License-Identifier: MIT
// The daemon (and the TinyBMS simulator) for the web tests: free ports picked at run time,
// readiness awaited (a port that accepts, a socket that exists), never a blind sleep.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const BUILD = path.resolve(process.argv[2] || process.env.BMSGW_BUILD || 'build/dev');
export const SOURCE = path.resolve(process.argv[3] || process.env.BMSGW_SOURCE || '.');
export const BMSGW = path.join(BUILD, 'src', 'bmsgw');
export const SIM = path.join(BUILD, 'src', 'bmsgw-sim');

// How long a test waits for something that must happen: a give-up limit on a slow or busy
// machine, never what a test measures (that is judged by the daemon's own time stamps).
export const GIVE_UP_MS = 60000;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Poll fn() until it returns a truthy value; throws with what after timeoutMs.
export async function waitFor(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
}

// promise, or a rejection naming what after timeoutMs (a timer that keeps nothing alive).
export function within(promise, timeoutMs, what) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(
    () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs).unref())]);
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

// A simulated TinyBMS on a PTY with its control socket.
export class Simulator {
  constructor(dir, args = []) {
    this.dir = dir;
    this.device = path.join(dir, 'ttyBMS');
    this.control = path.join(dir, 'sim.sock');
    this.args = args;
  }

  async start() {
    this.log = fs.openSync(path.join(this.dir, 'sim.log'), 'a');
    this.proc = spawn(SIM, ['tinybms', '--device', this.device, '--control', this.control,
      ...this.args], { stdio: ['ignore', this.log, this.log] });
    this.exited = new Promise((r) => this.proc.once('exit', (code, sig) => r({ code, sig })));
    await waitFor(() => fs.existsSync(this.device) && fs.existsSync(this.control), GIVE_UP_MS,
      'the simulator\'s device and control socket');
  }

  // One command line; resolves with the answer line ("ok", "error: ...", or JSON for get).
  cmd(line) {
    return new Promise((resolve, reject) => {
      const s = net.connect(this.control);
      let buf = '';
      const timer = setTimeout(() => { s.destroy(); reject(new Error(`no answer to ${line}`)); },
        GIVE_UP_MS);
      s.on('data', (d) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          s.end();
          resolve(buf.slice(0, nl));
        }
      });
      s.on('error', (e) => { clearTimeout(timer); reject(e); });
      s.write(line + '\n');
    });
  }

  async get() {
    return JSON.parse(await this.cmd('get'));
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      await this.exited;
    }
    if (this.log !== undefined) fs.closeSync(this.log);
    this.log = undefined;
  }
}

// The daemon with HTTP and WebSocket on free ports; CAN and Modbus TCP off.
export class Daemon {
  constructor(opts = {}) {
    this.dir = opts.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'bmsgw-web-'));
    this.state = path.join(this.dir, 'state');
    fs.mkdirSync(this.state, { recursive: true });
    this.extra = opts.extra || ''; // whole groups other than bms, can, modbus_tcp, http, ws
    this.http = opts.http || ''; // more keys of a group, e.g. 'request_timeout_s = 2;'
    this.ws = opts.ws || '';
    this.bms = opts.bms || '';
    this.pollMs = opts.pollMs || 250;
    this.device = opts.device || path.join(this.dir, 'no-such-tty');
    this.webRoot = opts.webRoot || path.join(SOURCE, 'web');
    this.tokenFile = path.join(this.state, 'api-token');
    this.logPath = path.join(this.dir, 'daemon.log');
  }

  async writeConfig() {
    this.httpPort = this.httpPort || await freePort();
    this.wsPort = this.wsPort || await freePort();
    const text = `state_dir = "${this.state}";
bms = { poll_interval_ms = ${this.pollMs}; ports = ( { name = "house"; device = "${this.device}"; } );
        ${this.bms} };
can = { enabled = false; };
modbus_tcp = { enabled = false; };
http = { bind = "127.0.0.1"; port = ${this.httpPort}; api_token_file = "${this.tokenFile}";
         web_root = "${this.webRoot}"; ${this.http} };
ws = { port = ${this.wsPort}; ${this.ws} };
${this.extra}
`;
    this.config = path.join(this.dir, 'bmsgw.conf');
    fs.writeFileSync(this.config, text);
  }

  async start() {
    if (!this.config) await this.writeConfig();
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(BMSGW, ['-f', '-c', this.config], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.exited = new Promise((r) => this.proc.once('exit', (code, sig) => r({ code, sig })));
    const ready = await Promise.race([
      waitFor(() => canConnect(this.httpPort), GIVE_UP_MS, `bmsgw on port ${this.httpPort}`),
      this.exited.then((e) => { throw new Error(`bmsgw exited ${JSON.stringify(e)}:\n${this.logText()}`); }),
    ]);
    this.token = fs.readFileSync(this.tokenFile, 'utf8').trim();
    this.base = `http://127.0.0.1:${this.httpPort}`;
    this.wsBase = `ws://127.0.0.1:${this.wsPort}`;
    return ready;
  }

  logText() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  alive() {
    return this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop() {
    if (this.alive()) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), GIVE_UP_MS);
      const r = await this.exited;
      clearTimeout(t);
      return r;
    }
    return this.exited;
  }

  cleanup() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // fetch with the base URL; auth: true = the right token, a string = that header value.
  async req(method, p, { body, auth, headers = {}, raw } = {}) {
    const h = { ...headers };
    if (auth === true) h.Authorization = `Bearer ${this.token}`;
    else if (typeof auth === 'string') h.Authorization = auth;
    let data = body;
    if (body !== undefined && !raw) {
      data = JSON.stringify(body);
      h['Content-Type'] = h['Content-Type'] || 'application/json';
    }
    const res = await fetch(this.base + p, { method, headers: h, body: data });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
  }
}

// Send raw bytes over one TCP connection and collect the whole answer until the server closes
// it (or timeoutMs passes).
export function rawHttp(port, bytes, timeoutMs = GIVE_UP_MS) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const chunks = [];
    const t0 = Date.now();
    const timer = setTimeout(() => { s.destroy(); resolve({ text: Buffer.concat(chunks).toString(), closed: false, ms: Date.now() - t0 }); }, timeoutMs);
    s.on('data', (d) => chunks.push(d));
    s.on('close', () => { clearTimeout(timer); resolve({ text: Buffer.concat(chunks).toString(), closed: true, ms: Date.now() - t0 }); });
    s.on('error', (e) => { if (e.code !== 'ECONNRESET') { clearTimeout(timer); reject(e); } });
    if (bytes) s.write(bytes);
  });
}
