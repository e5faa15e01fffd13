// The daemon's HTTP API (/api/v1) and its live events, reconnecting by themselves.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
    // The API's stable error code (README "HTTP API"), translated by the screens.
    this.code = (body && body.code) || null;
  }
}

const unauthorizedHandlers = [];
export function onUnauthorized(f) { unauthorizedHandlers.push(f); }

export async function api(method, path, body, opts) {
  const init = { method, headers: {}, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch('/api/v1' + path, init);
  } catch (e) {
    throw new ApiError(0, 'network', null);
  }
  let data = null;
  const text = await r.text();
  if (text) {
    try { data = JSON.parse(text); } catch (_) { data = null; }
  }
  if (!r.ok) {
    if (r.status === 401 && !(opts && opts.quiet401)) unauthorizedHandlers.forEach((f) => f());
    const msg = (data && data.error) || ('HTTP ' + r.status);
    throw new ApiError(r.status, msg, data);
  }
  return data;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b, o) => api('POST', p, b === undefined ? {} : b, o);
export const put = (p, b) => api('PUT', p, b);
export const del = (p) => api('DELETE', p);

// Live events: one EventSource for the page, reopened after errors (daemon restart).
const handlers = {};
const stateListeners = [];
let es = null;
let retryMs = 500;
let connected = false;
let down = false; // the stream failed and has not reopened since

export function on(name, f) {
  (handlers[name] ||= []).push(f);
  if (es) es.addEventListener(name, dispatch);
}

export function onConnection(f) {
  stateListeners.push(f);
  f(connected);
}

function dispatch(ev) {
  let data = null;
  try { data = JSON.parse(ev.data); } catch (_) { return; }
  (handlers[ev.type] || []).forEach((f) => f(data));
}

function setConnected(v) {
  const wasDown = down;
  down = !v;
  if (connected === v && wasDown === down) return;
  connected = v;
  stateListeners.forEach((f) => f(v));
}

export function connectEvents() {
  if (es) es.close();
  es = new EventSource('/api/v1/events');
  for (const name of Object.keys(handlers)) es.addEventListener(name, dispatch);
  es.onopen = () => { retryMs = 500; setConnected(true); };
  es.onerror = () => {
    setConnected(false);
    // Reopen ourselves: the browser gives up for good after some failures.
    es.close();
    es = null;
    setTimeout(connectEvents, retryMs);
    retryMs = Math.min(retryMs * 2, 5000);
  };
}

export function isConnected() { return connected; }
// True once the stream has failed, until it opens again (not while the first try is pending).
export function isDown() { return down && !connected; }
