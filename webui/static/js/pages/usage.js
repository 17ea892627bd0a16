// GPU usage: GPUs in use against the namespace's quota, and GPU-hours of the last day, week
// and month. Users see themselves; admins see everyone.
import * as api from '../api.js';
import * as events from '../events.js';
import {h, replace, messageArea, emptyState, pageHeader} from '../dom.js';
import {barChart} from '../charts.js';
import {number} from '../format.js';

// The quota may come as a number or a Kubernetes quantity string ("4").
function quota(v) {
  if (v === undefined || v === null || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function userBlock(u, showName) {
  const q = quota(u.gpuQuota);
  const inUse = Number(u.gpusInUse) || 0;
  const hours = u.gpuHours || {};
  return h('section', {class: 'card usage', dataset: {user: u.user}, 'aria-label': `Usage of ${u.user}`},
    showName ? h('h2', null, u.user, h('span', {class: 'hint'}, ` ${u.namespace || ''}`)) : null,
    barChart({
      title: 'GPUs in use',
      bars: [{label: 'in use', value: inUse, max: q === null ? undefined : q,
        text: q === null ? `${inUse} (no quota)` : `${inUse} of ${q} GPUs`}],
    }),
    barChart({
      title: 'GPU-hours',
      bars: [['last day', hours.day], ['last week', hours.week], ['last month', hours.month]].map(
        ([label, v]) => ({label, value: Number(v) || 0, text: `${number(Number(v) || 0, 3)} h`})),
    }));
}

export async function render(root, ctx) {
  const msg = messageArea();
  const body = h('div', {'aria-busy': 'true'}, h('p', {class: 'loading'}, 'Loading…'));
  const admin = ctx.user.role === 'admin';
  root.append(pageHeader('GPU usage'),
    h('p', {class: 'lead'}, admin ? 'Every user\'s GPUs and GPU-hours.'
      : 'Your GPUs in use against your quota, and the GPU-hours your workspaces and jobs used.'),
    msg.el, body);

  async function load() {
    const users = await api.loadList(ctx, msg, body, '/api/v1/usage', {field: 'users'});
    if (!users) return;
    if (!users.length) {
      replace(body, emptyState('No usage to show yet.'));
      return;
    }
    // Your own first, then the rest by name.
    users.sort((a, b) => (b.user === ctx.user.username) - (a.user === ctx.user.username)
      || a.user.localeCompare(b.user));
    const blocks = users.map((u) => userBlock(u, admin || users.length > 1));
    if (admin && users.length > 1) {
      const total = users.reduce((acc, u) => ({
        inUse: acc.inUse + (Number(u.gpusInUse) || 0),
        month: acc.month + (Number((u.gpuHours || {}).month) || 0),
      }), {inUse: 0, month: 0});
      blocks.unshift(h('p', {class: 'totals'}, `All users: ${total.inUse} GPU${total.inUse === 1 ? '' : 's'} in use, `,
        `${number(total.month, 4)} GPU-hours in the last month.`));
    }
    replace(body, h('div', {class: 'usage-grid'}, blocks));
  }

  // Usage follows workspaces and jobs starting and stopping.
  const reload = events.debounce(load, 1000);
  ctx.onCleanup(events.subscribe('workspace', reload));
  ctx.onCleanup(events.subscribe('job', reload));
  ctx.onCleanup(reload.cancel);
  await load();
}
