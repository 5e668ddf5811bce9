// SPDX-License-Identifier: MIT
// A WebSocket channel of the gateway that reconnects by itself (backoff up to 5 s).
import { tokenForStreams } from './api.js';

export class Live {
  constructor(path, onMessage, onState) {
    this.path = path;
    this.onMessage = onMessage;
    this.onState = onState || (() => {});
    this.delay = 500;
    this.stopped = true;
  }

  url(port) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const token = tokenForStreams();
    return `${scheme}://${location.hostname}:${port}${this.path}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  }

  start(port) {
    this.port = port;
    this.stopped = false;
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    this.onState('connecting');
    const ws = new WebSocket(this.url(this.port));
    this.ws = ws;
    ws.onopen = () => { this.delay = 500; this.onState('live'); };
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      this.onMessage(m);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.onState('offline', ev.code, ev.reason);
      if (this.stopped) return;
      this.timer = setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    };
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close();
    }
  }
}
