// Live updates: one EventSource for the whole app (GET /api/v1/events), fanned out to the pages
// that listen for a kind ("workspace", "job", "template"). Pages re-read what changed.

const listeners = new Map(); // kind -> Set of fn({type, name, namespace})
const KINDS = ['workspace', 'job', 'template'];
let source = null;
let retryTimer = null;

function dispatch(kind, event) {
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    return;
  }
  for (const fn of listeners.get(kind) || []) {
    try {
      fn(data);
    } catch (e) {
      // One page's bug must not stop the others from hearing about changes.
      console.warn('event listener failed', e);
    }
  }
}

function open() {
  if (source || retryTimer) return;
  source = new EventSource('/api/v1/events');
  for (const kind of KINDS) source.addEventListener(kind, (e) => dispatch(kind, e));
  // The stream does not replay what happened before it connected (or while it was down): tell
  // everyone to re-read once it is up.
  source.addEventListener('open', () => {
    for (const fns of listeners.values()) for (const fn of fns) fn({type: 'RESYNC'});
  });
  source.addEventListener('error', () => {
    // EventSource retries by itself unless the server refused the stream (e.g. a 401); then
    // try again a little later, and let the next API call send the user to sign in.
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      retryTimer = setTimeout(() => {
        retryTimer = null;
        if (listeners.size) open();
      }, 5000);
    }
  });
}

export function close() {
  if (source) source.close();
  source = null;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
}

// Calls fn for each change of `kind`; returns the function that stops it.
export function subscribe(kind, fn) {
  if (!listeners.has(kind)) listeners.set(kind, new Set());
  listeners.get(kind).add(fn);
  open();
  return () => {
    const set = listeners.get(kind);
    if (!set) return;
    set.delete(fn);
    if (!set.size) listeners.delete(kind);
  };
}

// fn at most once per `ms`, the last call winning (a burst of events is one re-read).
export function debounce(fn, ms = 300) {
  let timer = null;
  const wrapped = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
  wrapped.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return wrapped;
}
