// SPDX-License-Identifier: MIT
// The REST API: fetch with the bearer token, JSON errors, and the token prompt.
const KEY = 'bmsgw-token';

export function getToken() {
  try { return localStorage.getItem(KEY) || ''; } catch { return ''; }
}

function setToken(t) {
  try { localStorage.setItem(KEY, t); } catch { /* private mode: kept for this page only */ }
  memoryToken = t;
}

let memoryToken = getToken();

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.field = body && body.field;
  }
}

// Ask for the token; resolves true when one was entered.
export function promptToken(message) {
  const dlg = document.getElementById('token-dialog');
  const err = document.getElementById('token-error');
  const input = document.getElementById('token-input');
  err.hidden = !message;
  err.textContent = message || '';
  input.value = '';
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => {
      const ok = dlg.returnValue === 'ok' && input.value.trim() !== '';
      if (ok) setToken(input.value.trim());
      resolve(ok);
    }, { once: true });
    dlg.showModal();
  });
}

async function once(method, path, body) {
  const headers = {};
  if (memoryToken) headers.Authorization = `Bearer ${memoryToken}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) throw new ApiError(res.status, json);
  return json ?? text;
}

// A request; on 401/403 the token is asked for and the request tried again.
export async function api(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await once(method, path, body);
    } catch (e) {
      if (!(e instanceof ApiError) || (e.status !== 401 && e.status !== 403) || attempt > 2) throw e;
      const why = e.status === 403 ? 'That token is not the right one.' : '';
      if (!(await promptToken(why))) throw e;
    }
  }
}

export const tokenForStreams = () => memoryToken;

// A yes/no question in the page's own dialog.
export function confirmAction(text) {
  const dlg = document.getElementById('confirm-dialog');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.showModal();
  });
}
