// SPDX-License-Identifier: MIT
// A WebSocket client for the tests (the npm "ws" package): collects messages and the close.
import WebSocket from 'ws';

import { GIVE_UP_MS } from './harness.mjs';

export class Client {
  constructor(url, opts = {}) {
    this.url = url;
    this.messages = [];
    this.waiters = [];
    this.ws = new WebSocket(url, opts);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.ws.on('message', (data) => {
      const m = { t: performance.now(), json: JSON.parse(data.toString()), bytes: data.length };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => !w(m));
    });
    this.ws.on('error', () => {});
  }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  // Resolves with the first message (already received or coming) that pred accepts.
  next(pred, timeoutMs = GIVE_UP_MS, what = 'a message') {
    const seen = this.messages.find((m) => pred(m.json));
    if (seen) return Promise.resolve(seen.json);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} on ${this.url} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((m) => {
        if (!pred(m.json)) return false;
        clearTimeout(timer);
        resolve(m.json);
        return true;
      });
    });
  }

  async close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close();
    return Promise.race([this.closed, new Promise((r) => setTimeout(r, GIVE_UP_MS).unref())]);
  }
}

// Resolves with the close {code, reason}, or rejects after timeoutMs.
export function closedWithin(client, timeoutMs = GIVE_UP_MS) {
  return Promise.race([client.closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`${client.url} still open after ${timeoutMs} ms`)), timeoutMs).unref())]);
}
