// The portal's JSON API (docs/api.md): cookies of this origin only, the CSRF token on every
// state-changing request, errors carrying the API's own message, and a trip to the sign-in
// page when the session is gone.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let csrfToken = '';
let currentUser = null;

export function setSession(answer) {
  csrfToken = (answer && answer.csrfToken) || '';
  currentUser = (answer && answer.user) || null;
}

export function me() {
  return currentUser;
}

export function csrf() {
  return csrfToken;
}

export function loginPath(rd) {
  const target = rd === undefined ? location.pathname + location.search : rd;
  if (!target || target === '/' || target.startsWith('/login')) return '/login';
  return `/login?rd=${encodeURIComponent(target)}`;
}

// Only paths of this origin: "/x" but not "//host" or "/\host", which browsers treat as
// another host.
export function safeRedirect(rd) {
  if (typeof rd !== 'string' || !rd.startsWith('/')) return '/';
  if (rd.startsWith('//') || rd.startsWith('/\\')) return '/';
  return rd;
}

function redirectToLogin() {
  if (location.pathname === '/login') return;
  location.assign(loginPath());
}

async function errorFrom(res) {
  let code = '';
  let message = '';
  try {
    const body = await res.json();
    code = body.error || '';
    message = body.message || '';
  } catch {
    // Not JSON (a proxy's page, say): fall back to the status line.
  }
  if (!message) message = `The server answered ${res.status} ${res.statusText}`.trim();
  const retry = res.headers.get('Retry-After');
  return new ApiError(res.status, code, message, retry ? Number(retry) : undefined);
}

export function withQuery(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const qs = q.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

// request('POST', '/api/v1/jobs', {body: {...}}); options: query, body, text (answer as text),
// noRedirect (a 401 is the caller's to show, as for a wrong password).
export async function request(method, path, options = {}) {
  const headers = {Accept: options.text ? 'text/plain' : 'application/json'};
  const init = {method, credentials: 'same-origin', headers};
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(withQuery(path, options.query), init);
  } catch {
    throw new ApiError(0, 'network', 'The portal cannot be reached. Check your connection and try again.');
  }
  if (res.status === 401 && !options.noRedirect) {
    redirectToLogin();
    throw new ApiError(401, 'unauthorized', 'Your session has ended. Please sign in again.');
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  if (options.text) return res.text();
  const type = res.headers.get('Content-Type') || '';
  if (!type.includes('json')) return res.text();
  return res.json();
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, body, options = {}) => request('POST', path, {...options, body});
export const put = (path, body, options = {}) => request('PUT', path, {...options, body});
export const patch = (path, body, options = {}) => request('PATCH', path, {...options, body});
export const del = (path, options) => request('DELETE', path, options);

// A page's list: GET `path` and return its `field` (items by default), or null when the request
// failed (the message is shown in `msg`) or the page was left meanwhile. `busy` stops being
// aria-busy once there is something to show. options.query is passed on; options.onError(e),
// when given, handles an error instead of `msg` (it returns true when it did).
export async function loadList(ctx, msg, busy, path, options = {}) {
  let answer;
  try {
    answer = await get(path, {query: options.query});
  } catch (e) {
    if (!ctx.alive) return null;
    if (!(options.onError && options.onError(e))) msg.error(e.message);
    return null;
  }
  if (!ctx.alive) return null;
  busy.removeAttribute('aria-busy');
  return (answer && answer[options.field || 'items']) || [];
}

// One path segment, escaped (names come from users and the API).
export function seg(name) {
  return encodeURIComponent(name);
}

// `?namespace=` for objects outside the caller's own namespace (admins only).
export function nsQuery(obj) {
  const user = currentUser;
  if (!obj || !obj.namespace || !user || obj.namespace === user.namespace) return {};
  return {namespace: obj.namespace};
}

export async function loadSession() {
  const answer = await get('/api/v1/me', {noRedirect: true});
  setSession(answer);
  return answer.user;
}

export async function login(username, password) {
  const answer = await post('/api/v1/login', {username, password}, {noRedirect: true});
  setSession(answer);
  return answer.user;
}

export async function logout() {
  try {
    await post('/api/v1/logout');
  } finally {
    setSession(null);
  }
}

// Uploads a file as the raw request body with progress (fetch has no upload progress).
// onProgress(loaded, total); `signal` (an AbortSignal) cancels. Resolves with the API's answer;
// rejects with ApiError.
export function upload(path, file, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.addEventListener('progress', (e) => {
      if (onProgress) onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(file.size, file.size);
        resolve(body);
        return;
      }
      if (xhr.status === 401) redirectToLogin();
      const message = (body && body.message) || `The upload failed: ${xhr.status} ${xhr.statusText}`;
      reject(new ApiError(xhr.status, (body && body.error) || '', message));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network',
      'The upload was interrupted: the portal cannot be reached.')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'The upload was cancelled.')));
    if (signal) signal.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}
