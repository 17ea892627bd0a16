// A share link (/share/<token>): what the template offers, the access key when it needs one, and
// one button that creates (or starts) the caller's workspace, then follows it until it runs.
import * as api from '../api.js';
import * as events from '../events.js';
import {h, replace, field, messageArea, phaseBadge, busy} from '../dom.js';
import {problem} from '../format.js';
import {openLink} from './projects.js';

function templateName(info) {
  const t = info.template;
  if (!t) return '';
  return typeof t === 'string' ? t : t.name || '';
}

function describeDefaults(defaults) {
  const d = defaults || {};
  const rows = [];
  rows.push(['GPUs', d.gpus !== undefined ? String(d.gpus) : '0']);
  if (d.gpuProduct) rows.push(['GPU model', d.gpuProduct]);
  if (d.gpuMemoryMiB) rows.push(['GPU memory', `${d.gpuMemoryMiB} MiB`]);
  if (d.cpu !== undefined) rows.push(['CPU', String(d.cpu)]);
  if (d.memory !== undefined) rows.push(['Memory', String(d.memory)]);
  if (d.homeSize !== undefined) rows.push(['Home directory', String(d.homeSize)]);
  return rows;
}

const IDE_NAMES = {vscode: 'VS Code (in the browser)', jupyter: 'JupyterLab', none: 'none (batch only)'};

export async function render(root, ctx) {
  const token = ctx.params.token;
  const msg = messageArea();
  root.append(h('h1', {tabindex: '-1'}, 'Shared template'), msg.el);
  let info;
  try {
    info = await api.get(`/api/v1/shared/${api.seg(token)}`);
  } catch (e) {
    if (!ctx.alive) return;
    msg.error(e.message);
    if (e.status === 404) {
      root.append(h('p', null, 'Ask your administrator for a new link, or go to ',
        h('a', {href: '/'}, 'your projects'), '.'));
    }
    return;
  }
  if (!ctx.alive) return;
  const name = templateName(info);
  root.querySelector('h1').textContent = name ? `Template ${name}` : 'Shared template';
  const details = h('dl', {class: 'details'},
    h('dt', null, 'Template'), h('dd', null, name),
    h('dt', null, 'IDE'), h('dd', null, IDE_NAMES[info.ide] || info.ide || 'VS Code'),
    describeDefaults(info.defaults).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  const keyInput = h('input', {name: 'accessKey', autocomplete: 'off', spellcheck: 'false',
    required: true});
  const button = h('button', {type: 'submit', class: 'primary'}, 'Create my workspace');
  const form = h('form', {class: 'share-form', novalidate: true},
    info.accessKeyRequired ? field('Access key', keyInput,
      'Your administrator gave you this key with the link.') : null,
    h('div', {class: 'form-actions'}, button));
  const wsBox = h('section', {class: 'workspace-status', 'aria-live': 'polite',
    'aria-label': 'Your workspace'});
  root.append(h('div', {class: 'card'}, details, form), wsBox);

  let workspace = info.workspace || null;
  let poll = null;

  function showWorkspace() {
    if (!workspace) {
      replace(wsBox);
      button.textContent = 'Create my workspace';
      form.hidden = false;
      return;
    }
    const st = workspace.status || {};
    const running = st.phase === 'Running' && st.url;
    const why = st.phase === 'Failed' ? problem(st) : '';
    replace(wsBox,
      h('h2', null, 'Your workspace'),
      h('p', {class: 'ws-line'}, h('strong', null, workspace.name), ' ', phaseBadge(st.phase),
        running || st.phase === 'Failed' ? null : h('span', {class: 'hint'},
          st.phase === 'Stopped' ? ' It is stopped.' : ' It starts in a moment; this page updates by itself.')),
      why ? h('p', {class: 'notice error'}, why) : null,
      running ? h('p', null, openLink(workspace, 'Open workspace')) : null);
    const stopped = (workspace.spec && workspace.spec.running === false) || st.phase === 'Stopped';
    button.textContent = 'Start my workspace';
    // The button is for creating or starting; while it starts or runs there is nothing to press.
    form.hidden = !stopped;
    if (!running && !poll && st.phase !== 'Stopped' && st.phase !== 'Failed') {
      // Events drive the updates; the poll only covers a dropped event stream.
      poll = setInterval(refresh, 3000);
    }
    if ((running || st.phase === 'Failed') && poll) {
      clearInterval(poll);
      poll = null;
    }
  }

  async function refresh() {
    if (!workspace || !ctx.alive) return;
    try {
      const ws = await api.get(`/api/v1/workspaces/${api.seg(workspace.name)}`,
        {query: api.nsQuery(workspace)});
      if (ctx.alive) {
        workspace = ws;
        showWorkspace();
      }
    } catch (e) {
      if (ctx.alive && e.status !== 404) msg.error(e.message);
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (info.accessKeyRequired && !keyInput.value.trim()) {
      msg.error('Enter the access key.');
      keyInput.focus();
      return;
    }
    busy(button, async () => {
      msg.clear();
      try {
        const body = info.accessKeyRequired ? {accessKey: keyInput.value.trim()} : {};
        workspace = await api.post(`/api/v1/shared/${api.seg(token)}/workspaces`, body);
      } catch (err) {
        if (!ctx.alive) return;
        msg.error(err.message);
        if (info.accessKeyRequired && err.status === 403) keyInput.focus();
        return;
      }
      if (!ctx.alive) return;
      showWorkspace();
    });
  });

  const onChange = events.debounce(refresh, 200);
  ctx.onCleanup(events.subscribe('workspace', (ev) => {
    if (workspace && (ev.type === 'RESYNC' || ev.name === workspace.name)) onChange();
  }));
  ctx.onCleanup(() => {
    onChange.cancel();
    if (poll) clearInterval(poll);
  });
  showWorkspace();
}
