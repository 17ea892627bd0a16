// Training jobs: a form to submit one (from a template, code from git or a workspace, sweeps),
// and the table of jobs with filters by status, start time and name.
import * as api from '../api.js';
import * as events from '../events.js';
import {h, replace, field, messageArea, emptyState, pageHeader, phaseBadge, busy, uid,
  keepFocus} from '../dom.js';
import {age, dateTime} from '../format.js';

const PHASES = ['Queued', 'Running', 'Succeeded', 'Failed', 'Stopped'];
const PARAM = /^([-._a-zA-Z][-._a-zA-Z0-9]*)\s*=\s*(.*)$/;
const OTHER_IMAGE = ':image'; // no template name has a ':'

// "lr=0.1,0.01" lines -> [{name, values}]; throws Error naming the bad line.
export function parseSweep(text) {
  const out = [];
  text.split('\n').map((l) => l.trim()).filter(Boolean).forEach((line, i) => {
    const m = PARAM.exec(line);
    if (!m) throw new Error(`Sweep, line ${i + 1}: write it as name=value1,value2 ("${line.slice(0, 40)}").`);
    const values = m[2].split(',').map((v) => v.trim()).filter((v) => v !== '');
    if (!values.length) throw new Error(`Sweep, line ${i + 1}: ${m[1]} has no values.`);
    if (out.some((p) => p.name === m[1])) throw new Error(`Sweep, line ${i + 1}: ${m[1]} is given twice.`);
    out.push({name: m[1], values});
  });
  return out;
}

export function jobLink(job, user) {
  const q = job.namespace && user && job.namespace !== user.namespace
    ? `?namespace=${encodeURIComponent(job.namespace)}` : '';
  return `/jobs/${encodeURIComponent(job.name)}${q}`;
}

function submitForm(ctx, msg, onSubmitted) {
  const name = h('input', {name: 'name', required: true, autocomplete: 'off', spellcheck: 'false',
    maxlength: '50', placeholder: 'mnist-lr'});
  const template = h('select', {name: 'template'});
  const image = h('input', {name: 'image', spellcheck: 'false',
    placeholder: 'pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime'});
  const imageField = field('Image', image);
  imageField.hidden = true;
  template.addEventListener('change', () => {
    imageField.hidden = template.value !== OTHER_IMAGE;
  });

  const group = uid('src');
  const radios = {};
  const radio = (value, label, checked) => {
    radios[value] = h('input', {type: 'radio', name: group, value, id: uid('radio'), checked});
    return h('span', {class: 'radio'}, radios[value], h('label', {htmlFor: radios[value].id}, label));
  };
  const gitUrl = h('input', {name: 'gitUrl', spellcheck: 'false', placeholder: 'https://github.com/org/project.git'});
  const gitRef = h('input', {name: 'gitRef', spellcheck: 'false', placeholder: 'main'});
  const gitPath = h('input', {name: 'gitPath', spellcheck: 'false', placeholder: 'train/'});
  const wsSelect = h('select', {name: 'workspace'});
  const wsPath = h('input', {name: 'workspacePath', spellcheck: 'false', placeholder: 'project/'});
  const gitFields = h('div', {class: 'subfields row'}, field('Repository URL', gitUrl),
    field('Branch or tag', gitRef), field('Directory', gitPath, 'Inside the repository (optional).'));
  const wsFields = h('div', {class: 'subfields row'}, field('Workspace', wsSelect),
    field('Directory', wsPath, 'Inside its home (optional).'));
  const sourceRow = h('div', {class: 'radios'},
    radio('none', 'The image\'s own files', true),
    radio('git', 'A git repository', false),
    radio('workspace', 'One of my workspaces', false));
  const syncSource = () => {
    gitFields.hidden = !radios.git.checked;
    wsFields.hidden = !radios.workspace.checked;
  };
  Object.values(radios).forEach((r) => r.addEventListener('change', syncSource));
  syncSource();

  const command = h('input', {name: 'command', spellcheck: 'false', placeholder: 'python train.py'});
  const args = h('textarea', {name: 'args', rows: '3', spellcheck: 'false',
    placeholder: '--lr=$(lr)\n--epochs=10'});
  const gpus = h('input', {name: 'gpus', type: 'number', min: '0', max: '16', step: '1'});
  const workers = h('input', {name: 'workers', type: 'number', min: '1', max: '64', step: '1', value: '1'});
  const sweep = h('textarea', {name: 'sweep', rows: '3', spellcheck: 'false',
    placeholder: 'lr=0.1,0.01,0.001\nbatch=32,64'});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Submit job');
  const formMsg = messageArea();

  const form = h('form', {class: 'card', novalidate: true, 'aria-label': 'Submit a training job'},
    h('h2', null, 'Submit a training job'),
    h('div', {class: 'row'}, field('Name', name, 'Lower-case letters, digits and "-", starting with a letter.'),
      field('Template', template, 'Gives the image and the default resources.'), imageField),
    h('fieldset', null, h('legend', null, 'Code'), sourceRow, gitFields, wsFields),
    h('div', {class: 'row'},
      field('Command', command, 'Split on spaces, run without a shell. Empty: the image\'s entrypoint.'),
      field('Arguments', args, 'One per line; $(name) is replaced by a sweep value.')),
    h('div', {class: 'row'},
      field('GPUs per worker', gpus, 'Empty: the template\'s default.'),
      field('Workers', workers, 'Pods per run (torchrun-style when more than 1).'),
      field('Sweep parameters', sweep, 'One per line: name=value1,value2. One run per combination.')),
    formMsg.el,
    h('div', {class: 'form-actions'}, submit));

  async function fillSelects() {
    const [tpls, wss] = await Promise.allSettled([api.get('/api/v1/templates'),
      api.get('/api/v1/workspaces')]);
    if (!ctx.alive) return;
    const templates = tpls.status === 'fulfilled' ? (tpls.value.items || []) : [];
    templates.sort((a, b) => a.name.localeCompare(b.name));
    replace(template, templates.map((t) => h('option', {value: t.name},
      t.status && t.status.phase && t.status.phase !== 'Ready' ? `${t.name} (${t.status.phase})` : t.name)),
    h('option', {value: OTHER_IMAGE}, 'Another image…'));
    if (!templates.length) imageField.hidden = false;
    if (tpls.status === 'rejected') formMsg.error(tpls.reason.message);
    const workspaces = wss.status === 'fulfilled' ? (wss.value.items || []) : [];
    const mine = workspaces.filter((w) => w.namespace === ctx.user.namespace);
    replace(wsSelect, mine.length ? mine.map((w) => h('option', {value: w.name}, w.name))
      : h('option', {value: ''}, 'You have no workspaces'));
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    formMsg.clear();
    const jobName = name.value.trim();
    const fail = (text, el) => {
      formMsg.error(text);
      if (el) el.focus();
    };
    if (!/^[a-z]([-a-z0-9]{0,48}[a-z0-9])?$/.test(jobName)) {
      fail('Name: at most 50 lower-case letters, digits and "-", starting with a letter.', name);
      return;
    }
    const spec = {};
    if (template.value === OTHER_IMAGE || !template.value) {
      if (!image.value.trim()) {
        fail('Image: choose a template or enter an image.', template.value ? image : template);
        return;
      }
      spec.image = image.value.trim();
    } else {
      spec.template = template.value;
    }
    if (radios.git.checked) {
      if (!gitUrl.value.trim()) {
        fail('Repository URL: enter the repository to clone.', gitUrl);
        return;
      }
      spec.source = {git: {url: gitUrl.value.trim()}};
      if (gitRef.value.trim()) spec.source.git.ref = gitRef.value.trim();
      if (gitPath.value.trim()) spec.source.git.path = gitPath.value.trim();
    } else if (radios.workspace.checked) {
      if (!wsSelect.value) {
        fail('Workspace: you have no workspace to run from.', wsSelect);
        return;
      }
      spec.source = {workspace: {name: wsSelect.value}};
      if (wsPath.value.trim()) spec.source.workspace.path = wsPath.value.trim();
    }
    const cmd = command.value.trim().split(/\s+/).filter(Boolean);
    if (cmd.length) spec.command = cmd;
    const argList = args.value.split('\n').map((a) => a.trim()).filter(Boolean);
    if (argList.length) spec.args = argList;
    if (gpus.value.trim() !== '') {
      const n = Number(gpus.value);
      if (!Number.isInteger(n) || n < 0 || n > 16) {
        fail('GPUs per worker: a whole number from 0 to 16.', gpus);
        return;
      }
      spec.resources = {gpus: n};
    }
    const w = Number(workers.value || '1');
    if (!Number.isInteger(w) || w < 1 || w > 64) {
      fail('Workers: a whole number from 1 to 64.', workers);
      return;
    }
    if (w !== 1) spec.workers = w;
    try {
      const parameters = parseSweep(sweep.value);
      if (parameters.length) spec.sweep = {parameters};
    } catch (err) {
      fail(err.message, sweep);
      return;
    }
    busy(submit, async () => {
      try {
        const job = await api.post('/api/v1/jobs', {name: jobName, spec});
        onSubmitted(job);
      } catch (err) {
        formMsg.error(err.message);
      }
    });
  });
  return {form, fillSelects};
}

export async function render(root, ctx) {
  const msg = messageArea();
  const admin = ctx.user.role === 'admin';
  const newButton = h('button', {type: 'button', class: 'primary', 'aria-expanded': 'false'}, 'Submit a job');
  const formBox = h('div');
  root.append(pageHeader('Training jobs', newButton), msg.el, formBox);

  let formParts = null;
  newButton.addEventListener('click', () => {
    if (formParts) {
      replace(formBox);
      formParts = null;
      newButton.setAttribute('aria-expanded', 'false');
      return;
    }
    formParts = submitForm(ctx, msg, (job) => ctx.navigate(jobLink(job, ctx.user), {data: job}));
    replace(formBox, formParts.form);
    newButton.setAttribute('aria-expanded', 'true');
    formParts.fillSelects();
    formParts.form.querySelector('input').focus();
  });

  // Filters, kept in the address so a filtered list can be bookmarked.
  const status = h('select', {name: 'status'}, h('option', {value: ''}, 'Any'),
    PHASES.map((p) => h('option', {value: p, selected: ctx.query.get('status') === p}, p)));
  const since = h('input', {name: 'since', type: 'datetime-local'});
  const sinceQ = ctx.query.get('since');
  if (sinceQ && !Number.isNaN(new Date(sinceQ).getTime())) {
    const d = new Date(sinceQ);
    since.value = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }
  const nameFilter = h('input', {name: 'name', type: 'search', value: ctx.query.get('name') || '',
    spellcheck: 'false'});
  const apply = h('button', {type: 'submit'}, 'Filter');
  const clearBtn = h('button', {type: 'button'}, 'Clear');
  const filters = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter jobs'},
    field('Status', status), field('Created since', since), field('Name contains', nameFilter),
    h('div', {class: 'form-actions'}, apply, clearBtn));
  const list = h('div', {'aria-busy': 'true'}, h('p', {class: 'loading'}, 'Loading…'));
  root.append(h('h2', null, 'Jobs'), filters, list);

  function query() {
    const q = {status: status.value, name: nameFilter.value.trim()};
    if (since.value) {
      const d = new Date(since.value);
      if (!Number.isNaN(d.getTime())) q.since = d.toISOString();
    }
    return q;
  }

  async function load() {
    const q = query();
    const items = await api.loadList(ctx, msg, list, '/api/v1/jobs', {query: q});
    if (!items) return;
    if (!items.length) {
      const filtered = q.status || q.name || q.since;
      replace(list, filtered
        ? emptyState('No jobs match these filters.', 'Clear the filters to see every job.')
        : emptyState('No training jobs yet.',
          'A training job runs your code on GPUs, once or as a sweep over parameters.',
          'Press "Submit a job" to start one.'));
      return;
    }
    items.sort((a, b) => String(b.createdAt || '').localeCompare(String(a.createdAt || '')));
    const rows = items.map((job) => {
      const st = job.status || {};
      const href = jobLink(job, ctx.user);
      const tr = h('tr', {class: 'clickable', dataset: {name: job.name}},
        h('th', {scope: 'row'}, h('a', {href}, job.name)),
        admin ? h('td', null, job.namespace) : null,
        h('td', null, phaseBadge(st.phase || 'Queued'),
          st.phase === 'Queued' && st.queuePosition ? h('span', {class: 'hint'}, ` #${st.queuePosition} in queue`) : null),
        h('td', {class: 'num'}, st.progress || ''),
        h('td', {class: 'num'}, String(st.runsSucceeded || 0)),
        h('td', {class: 'num'}, String(st.runsFailed || 0)),
        h('td', null, h('time', {datetime: st.startTime || ''}, dateTime(st.startTime))),
        h('td', null, age(job.createdAt)));
      // The whole row opens the job; the name link is the keyboard's way in.
      tr.addEventListener('click', (e) => {
        if (e.target.closest('a, button')) return;
        ctx.navigate(href);
      });
      return tr;
    });
    keepFocus(list, () => replace(list, h('table', {class: 'table'},
      h('caption', {class: 'visually-hidden'}, 'Training jobs'),
      h('thead', null, h('tr', null,
        h('th', {scope: 'col'}, 'Name'),
        admin ? h('th', {scope: 'col'}, 'Namespace') : null,
        h('th', {scope: 'col'}, 'Status'),
        h('th', {scope: 'col', class: 'num'}, 'Runs done'),
        h('th', {scope: 'col', class: 'num'}, 'Succeeded'),
        h('th', {scope: 'col', class: 'num'}, 'Failed'),
        h('th', {scope: 'col'}, 'Started'),
        h('th', {scope: 'col'}, 'Age'))),
      h('tbody', null, rows))));
  }

  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = query();
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v) params.set(k, v);
    const qs = params.toString();
    history.replaceState(null, '', qs ? `/jobs?${qs}` : '/jobs');
    busy(apply, load);
  });
  clearBtn.addEventListener('click', () => {
    status.value = '';
    since.value = '';
    nameFilter.value = '';
    history.replaceState(null, '', '/jobs');
    load();
  });

  const reload = events.debounce(load, 300);
  ctx.onCleanup(events.subscribe('job', reload));
  ctx.onCleanup(reload.cancel);
  await load();
}
