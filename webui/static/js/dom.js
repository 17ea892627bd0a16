// Building DOM without markup strings: every piece of data becomes a text node or an attribute
// value, never HTML, so nothing a user typed can turn into script or layout (and the portal's
// CSP forbids inline scripts and styles anyway).

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'htmlFor',
  'multiple', 'required', 'readOnly', 'open', 'indeterminate']);

function applyProps(el, props) {
  for (const [key, v] of Object.entries(props || {})) {
    if (key === 'style' || key === 'innerHTML' || key === 'outerHTML') {
      throw new Error(`dom: ${key} is not allowed`);
    }
    if (v === undefined || v === null || v === false) continue;
    if (key === 'class') {
      el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    } else if (key.startsWith('on')) {
      // Handlers are functions only: an "onclick" string would be script made of data.
      if (typeof v !== 'function') throw new Error(`dom: ${key} must be a function`);
      el.addEventListener(key.slice(2).toLowerCase(), v);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (PROPS.has(key)) {
      el[key] = v;
    } else {
      el.setAttribute(key, v === true ? '' : String(v));
    }
  }
}

function appendChildren(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) appendChildren(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// h('button', {class: 'primary', onclick: fn}, 'Save')
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  appendChildren(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, v] of Object.entries(props || {})) {
    if (key === 'style') throw new Error('dom: style is not allowed');
    if (v === undefined || v === null || v === false) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else el.setAttribute(key, String(v));
  }
  appendChildren(el, children);
  return el;
}

export function replace(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  appendChildren(el, children);
  return el;
}

let nextId = 0;
export function uid(prefix = 'f') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// A link target from the API (e.g. a workspace's status.url): http(s) or a path of this site,
// never javascript: or data: URLs.
export function safeHref(url) {
  const text = String(url || '');
  if (/^https?:\/\//i.test(text)) return text;
  if (text.startsWith('/') && !text.startsWith('//') && !text.startsWith('/\\')) return text;
  return null;
}

// A labelled form control: the label names it for screen readers and clicking focuses it.
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid('field');
  let hintEl = null;
  if (hint) {
    hintEl = h('small', {class: 'hint', id: uid('hint')}, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', {class: 'field'}, h('label', {htmlFor: control.id}, labelText), control, hintEl);
}

export function checkbox(labelText, input) {
  if (!input.id) input.id = uid('check');
  return h('div', {class: 'field check'}, input, h('label', {htmlFor: input.id}, labelText));
}

// A place for one message at a time: errors are announced (role=alert), the rest politely.
export function messageArea() {
  const el = h('div', {class: 'messages', 'aria-live': 'polite'});
  return {
    el,
    error(text) {
      replace(el, h('p', {class: 'notice error', role: 'alert'}, text));
    },
    info(text) {
      replace(el, h('p', {class: 'notice info'}, text));
    },
    success(text) {
      replace(el, h('p', {class: 'notice success'}, text));
    },
    clear() {
      replace(el);
    },
  };
}

export function emptyState(title, ...body) {
  return h('div', {class: 'empty'}, h('p', {class: 'empty-title'}, title), ...body.map((b) =>
    (b instanceof Node ? b : h('p', null, b))));
}

export function pageHeader(title, ...actions) {
  return h('div', {class: 'page-header'},
    h('h1', {tabindex: '-1'}, title),
    actions.length ? h('div', {class: 'actions'}, ...actions) : null);
}

export function phaseBadge(phase) {
  const p = phase || 'Pending';
  return h('span', {class: ['badge', `phase-${p.toLowerCase()}`]}, p);
}

// Runs `fn` on a button click with the button disabled meanwhile (no double submits).
export async function busy(button, fn) {
  const was = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = was;
    button.removeAttribute('aria-busy');
  }
}

// Re-renders with `fn` and puts keyboard focus back on the control that had it (matched by
// its aria-label or id), so live updates do not throw keyboard users back to the page's top.
export function keepFocus(container, fn) {
  const active = document.activeElement;
  let selector = null;
  if (active && active !== container && container.contains(active)) {
    if (active.id) selector = `#${CSS.escape(active.id)}`;
    else if (active.getAttribute('aria-label')) {
      selector = `[aria-label="${CSS.escape(active.getAttribute('aria-label'))}"]`;
    }
  }
  fn();
  if (selector) {
    const again = container.querySelector(selector);
    if (again) again.focus();
  }
}
