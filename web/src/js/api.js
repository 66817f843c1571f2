// minqing's HTTP API: the signed-in token, JSON requests with clear errors, and the live
// change stream (SSE read with fetch, since EventSource cannot send an Authorization header).

const TOKEN_KEY = 'minqing.token';

/** The stored bearer token, or null. */
export function getToken() {
  return localStorage.getItem(TOKEN_KEY) || null;
}

/** Stores (or, with an empty value, removes) the bearer token. */
export function setToken(token) {
  const v = (token || '').trim().replace(/^Bearer\s+/i, '');
  if (v) localStorage.setItem(TOKEN_KEY, v);
  else localStorage.removeItem(TOKEN_KEY);
}

/** `{Authorization}` when signed in. */
export function authHeaders() {
  const tok = getToken();
  return tok ? { Authorization: `Bearer ${tok}` } : {};
}

/** An error answered by the API (`{"error": {"code", "message"}}`) or by the network. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * A JSON request to the API. `body` (an object) is sent as JSON; `auth: false` leaves the
 * token out. Resolves to the parsed body; rejects with an ApiError.
 */
export async function api(path, { method = 'GET', body, headers = {}, auth = true, signal } = {}) {
  const h = { Accept: 'application/json', ...(auth ? authHeaders() : {}), ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', navigator.onLine === false ? 'offline' : `network error: ${e.message}`);
  }
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!r.ok) {
    const err = data && data.error;
    throw new ApiError(r.status, err?.code || `http_${r.status}`, err?.message || `${r.status} ${r.statusText}`);
  }
  return data;
}

/** A random UUID (also outside secure contexts, where crypto.randomUUID is missing). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

let taxonomyPromise = null;
/** The event taxonomy (copied into the build from geodata/taxonomy.json). */
export function loadTaxonomy() {
  const url = new URL('../taxonomy.json', import.meta.url);
  const early = window.mqEarly && window.mqEarly[url.pathname];
  taxonomyPromise ??= Promise.resolve(early)
    .then((t) => t || fetch(url).then((r) => r.json()));
  return taxonomyPromise;
}

/**
 * Deployment settings: `/config.json` (see web/README.md), overridden by URL parameters
 * `?basemap=` (a raster tile URL with {z}/{x}/{y}) and `?basemap_style=` (a style URL).
 */
export async function loadConfig() {
  let config = null;
  const early = window.mqEarly && window.mqEarly['config.json'];
  if (early) {
    delete window.mqEarly['config.json'];
    config = await early;
  }
  if (!config) {
    try {
      const r = await fetch('/config.json', { cache: 'no-cache' });
      if (r.ok) config = await r.json();
    } catch {
      config = null;
    }
  }
  config = config || {};
  const q = new URLSearchParams(location.search);
  for (const k of ['basemap', 'basemap_style', 'basemap_attribution']) {
    if (q.get(k)) config[k] = q.get(k);
  }
  return config;
}

/**
 * Follows `GET /api/v1/stream`: calls `onEvent(type, feature, id)` for each `created` /
 * `updated` message, `onReset()` when changes were missed, and `onStatus(state, error)` with
 * `open`, `retrying` or `denied` (401/403: no use retrying). Reconnects with `Last-Event-ID`
 * after a lost connection. Returns `{close()}`.
 */
export function followStream({ params = {}, onEvent, onReset = () => {}, onStatus = () => {} }) {
  let closed = false;
  let lastId = null;
  let controller = null;
  let delay = 500;

  const connect = async () => {
    if (closed) return;
    controller = new AbortController();
    const q = new URLSearchParams(params).toString();
    const headers = { Accept: 'text/event-stream', ...authHeaders() };
    if (lastId) headers['Last-Event-ID'] = lastId;
    try {
      const r = await fetch(`/api/v1/stream${q ? `?${q}` : ''}`, { headers, cache: 'no-store', signal: controller.signal });
      if (r.status === 401 || r.status === 403) {
        let message = '';
        try {
          message = (await r.json()).error.message;
        } catch {
          message = r.statusText;
        }
        onStatus('denied', new ApiError(r.status, 'denied', message));
        return;
      }
      if (!r.ok || !r.body) throw new Error(`stream: ${r.status}`);
      onStatus('open');
      delay = 500;
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          dispatch(block);
        }
      }
      throw new Error('stream ended');
    } catch (e) {
      if (closed || e.name === 'AbortError') return;
      onStatus('retrying', e);
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    }
  };

  const dispatch = (block) => {
    let type = 'message';
    let id = null;
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let v = i < 0 ? '' : line.slice(i + 1);
      if (v.startsWith(' ')) v = v.slice(1);
      if (field === 'event') type = v;
      else if (field === 'data') data.push(v);
      else if (field === 'id') id = v;
    }
    if (id) lastId = id;
    if (!data.length) return;
    if (type === 'reset') {
      onReset();
      return;
    }
    try {
      onEvent(type, JSON.parse(data.join('\n')), id);
    } catch (e) {
      console.warn('minqing: bad stream message', e);
    }
  };

  connect();
  return {
    close() {
      closed = true;
      controller?.abort();
    },
  };
}
