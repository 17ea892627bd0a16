// My projects: the caller's workspaces with live status, open, stop/start and delete.
import * as api from '../api.js';
import * as events from '../events.js';
import {h, replace, messageArea, emptyState, pageHeader, phaseBadge, busy, keepFocus, safeHref} from '../dom.js';
import {age, problem} from '../format.js';

export function openLink(ws, text = 'Open') {
  const st = ws.status || {};
  const href = safeHref(st.url);
  if (st.phase !== 'Running' || !href) return null;
  return h('a', {class: 'button primary', href, target: '_blank', rel: 'noopener',
    'aria-label': `Open ${ws.name}`}, text);
}

function confirmDelete(cell, ws, onDone, msg) {
  const original = [...cell.childNodes];
  const yes = h('button', {type: 'button', class: 'danger'}, `Delete ${ws.name}`);
  const no = h('button', {type: 'button'}, 'Cancel');
  yes.addEventListener('click', () => busy(yes, async () => {
    try {
      await api.del(`/api/v1/workspaces/${api.seg(ws.name)}`, {query: api.nsQuery(ws)});
      msg.success(`Deleted ${ws.name}.`);
      onDone();
    } catch (e) {
      msg.error(e.message);
      replace(cell, ...original);
    }
  }));
  no.addEventListener('click', () => {
    replace(cell, ...original);
    original.find((n) => n.textContent === 'Delete')?.focus();
  });
  replace(cell, h('span', {class: 'confirm'}, 'Delete it and its home directory? '), yes, no);
  no.focus();
}

export async function render(root, ctx) {
  const msg = messageArea();
  const body = h('div', {'aria-busy': 'true'}, h('p', {class: 'loading'}, 'Loading…'));
  const admin = ctx.user.role === 'admin';
  root.append(pageHeader('My projects'),
    ...(admin ? [h('p', {class: 'lead'}, 'As an admin you see every user\'s workspaces.')] : []),
    msg.el, body);

  async function load() {
    const items = await api.loadList(ctx, msg, body, '/api/v1/workspaces');
    if (!items) return;
    if (!items.length) {
      replace(body, emptyState('You have no projects yet.',
        'Projects are workspaces: a browser IDE with GPUs and a home directory that stays.',
        'Open a share link from your administrator to create one.'));
      return;
    }
    items.sort((a, b) => a.name.localeCompare(b.name) || a.namespace.localeCompare(b.namespace));
    const rows = items.map((ws) => {
      const st = ws.status || {};
      const spec = ws.spec || {};
      const running = spec.running !== false;
      const toggle = h('button', {type: 'button'}, running ? 'Stop' : 'Start');
      toggle.setAttribute('aria-label', `${running ? 'Stop' : 'Start'} ${ws.name}`);
      toggle.addEventListener('click', () => busy(toggle, async () => {
        try {
          await api.patch(`/api/v1/workspaces/${api.seg(ws.name)}`, {running: !running},
            {query: api.nsQuery(ws)});
          msg.info(`${running ? 'Stopping' : 'Starting'} ${ws.name}…`);
          load();
        } catch (e) {
          msg.error(e.message);
        }
      }));
      const actions = h('td', {class: 'actions'});
      const del = h('button', {type: 'button', class: 'danger-outline', 'aria-label': `Delete ${ws.name}`},
        'Delete');
      del.addEventListener('click', () => confirmDelete(actions, ws, load, msg));
      actions.append(openLink(ws) || '', toggle, del);
      const why = st.phase === 'Failed' ? problem(st) : '';
      return h('tr', {dataset: {name: ws.name}},
        h('th', {scope: 'row'}, ws.name),
        admin ? h('td', null, ws.namespace) : null,
        h('td', null, spec.template || ''),
        h('td', {class: 'status'}, phaseBadge(st.phase), why ? h('div', {class: 'why'}, why) : null),
        h('td', {class: 'num'}, st.gpus !== undefined ? String(st.gpus) : ''),
        h('td', null, h('time', {datetime: ws.createdAt || ''}, age(ws.createdAt))),
        actions);
    });
    keepFocus(body, () => replace(body, h('table', {class: 'table'},
      h('caption', {class: 'visually-hidden'}, 'Your workspaces'),
      h('thead', null, h('tr', null,
        h('th', {scope: 'col'}, 'Name'),
        admin ? h('th', {scope: 'col'}, 'Namespace') : null,
        h('th', {scope: 'col'}, 'Template'),
        h('th', {scope: 'col'}, 'Status'),
        h('th', {scope: 'col', class: 'num'}, 'GPUs'),
        h('th', {scope: 'col'}, 'Age'),
        h('th', {scope: 'col'}, h('span', {class: 'visually-hidden'}, 'Actions')))),
      h('tbody', null, rows))));
  }

  const reload = events.debounce(load, 250);
  ctx.onCleanup(events.subscribe('workspace', reload));
  ctx.onCleanup(reload.cancel);
  await load();
}
