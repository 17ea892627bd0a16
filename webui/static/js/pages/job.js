// One training job: its runs side by side (parameters, phase, final metrics), the metric
// series as charts, each pod's log, and stop/resume/delete.
import * as api from '../api.js';
import * as events from '../events.js';
import {h, replace, field, messageArea, emptyState, phaseBadge, busy, checkbox, keepFocus} from '../dom.js';
import {dateTime, duration, number, problem} from '../format.js';
import {lineChart} from '../charts.js';

const FINISHED = new Set(['Succeeded', 'Failed', 'Stopped']);

function runLabel(run) {
  const values = Object.entries(run.parameters || run.values || {}).map(([k, v]) => `${k}=${v}`);
  return `run ${run.index}${values.length ? ` (${values.join(', ')})` : ''}`;
}

function summary(job) {
  const spec = job.spec || {};
  const st = job.status || {};
  const rows = [
    ['Status', [phaseBadge(st.phase || 'Queued'), st.phase === 'Queued' && st.queuePosition
      ? ` number ${st.queuePosition} in the queue` : '']],
    ['Runs', st.progress ? `${st.progress} finished (${st.runsSucceeded || 0} succeeded, ${st.runsFailed || 0} failed)` : ''],
    [spec.template ? 'Template' : 'Image', spec.template || spec.image || ''],
    ['Command', [...(spec.command || []), ...(spec.args || [])].join(' ') || 'the image\'s entrypoint'],
    ['Workers', String(spec.workers || 1)],
    ['GPUs per worker', spec.resources && spec.resources.gpus !== undefined ? String(spec.resources.gpus) : 'template default'],
    ['Created', dateTime(job.createdAt)],
    ['Started', dateTime(st.startTime)],
    ['Finished', dateTime(st.completionTime)],
    ['GPU hours', st.gpuSeconds ? number(st.gpuSeconds / 3600, 3) : ''],
  ];
  if (job.namespace) rows.splice(1, 0, ['Namespace', job.namespace]);
  const src = spec.source || {};
  if (src.git) rows.push(['Code', `git ${src.git.url}${src.git.ref ? ` @ ${src.git.ref}` : ''}${src.git.path ? ` / ${src.git.path}` : ''}`]);
  if (src.workspace) rows.push(['Code', `workspace ${src.workspace.name}${src.workspace.path ? ` / ${src.workspace.path}` : ''}`]);
  if (src.configMap) rows.push(['Code', `config map ${src.configMap.name}`]);
  return h('dl', {class: 'details'}, rows.filter(([, v]) => v !== '' && v !== undefined)
    .map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

function runsTable(job) {
  const runs = ((job.status || {}).runs || []).slice().sort((a, b) => a.index - b.index);
  if (!runs.length) {
    return emptyState('No runs yet.', 'Runs appear once the job has been looked at by the operator.');
  }
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.values || {})))];
  const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics || {})))].sort();
  return h('div', {class: 'table-scroll', tabindex: '0', 'aria-label': 'Runs'}, h('table', {class: 'table runs'},
    h('caption', {class: 'visually-hidden'}, 'Runs with their parameters, phase and last metrics'),
    h('thead', null, h('tr', null,
      h('th', {scope: 'col'}, 'Run'),
      params.map((p) => h('th', {scope: 'col', class: 'param'}, p)),
      h('th', {scope: 'col'}, 'Phase'),
      h('th', {scope: 'col'}, 'Started'),
      h('th', {scope: 'col'}, 'Duration'),
      h('th', {scope: 'col', class: 'num'}, 'Step'),
      metrics.map((m) => h('th', {scope: 'col', class: 'num metric'}, m)))),
    h('tbody', null, runs.map((r) => h('tr', {dataset: {run: String(r.index)}},
      h('th', {scope: 'row'}, String(r.index)),
      params.map((p) => h('td', {class: 'mono'}, (r.values || {})[p] ?? '')),
      h('td', null, phaseBadge(r.phase || 'Queued')),
      h('td', null, dateTime(r.startTime)),
      // A stopped run has no end time: its duration would grow for ever.
      h('td', null, r.completionTime || r.phase === 'Running' ? duration(r.startTime, r.completionTime) : ''),
      h('td', {class: 'num'}, r.step !== undefined ? String(r.step) : ''),
      metrics.map((m) => h('td', {class: 'num'}, number((r.metrics || {})[m]))))))));
}

function charts(data) {
  const runs = (data && data.runs) || [];
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.series || {})))].sort();
  if (!names.length) {
    return emptyState('No metrics yet.', h('p', null, 'Print lines like ',
      h('code', null, 'remotecode.metric loss=0.42 accuracy=0.9 step=100'),
      ' from rank 0 and they are plotted here.'));
  }
  return h('div', {class: 'charts'}, names.map((name) => lineChart({
    title: name,
    series: runs.filter((r) => r.series && r.series[name] && r.series[name].length)
      .map((r) => ({label: runLabel(r), points: r.series[name]})),
  })));
}

export async function render(root, ctx) {
  const name = ctx.params.name;
  const ns = ctx.query.get('namespace');
  const nsq = ns ? {namespace: ns} : {};
  const base = `/api/v1/jobs/${api.seg(name)}`;
  const msg = messageArea();
  const stop = h('button', {type: 'button'}, 'Stop');
  const resume = h('button', {type: 'button'}, 'Resume');
  const del = h('button', {type: 'button', class: 'danger-outline'}, 'Delete');
  const actions = h('div', {class: 'actions'}, stop, resume, del);
  const summaryBox = h('div', {class: 'card'});
  const runsBox = h('div');
  const chartsBox = h('div');
  const podSelect = h('select', {name: 'pod'});
  const tail = h('select', {name: 'tail'}, [100, 1000, 10000].map((n) =>
    h('option', {value: String(n), selected: n === 1000}, `last ${n} lines`)));
  const follow = h('input', {type: 'checkbox', name: 'follow', checked: true});
  const refreshLog = h('button', {type: 'button'}, 'Refresh log');
  const logPre = h('pre', {class: 'log', tabindex: '0', 'aria-label': 'Pod log'});
  const logMsg = messageArea();
  root.append(
    h('div', {class: 'page-header'}, h('h1', {tabindex: '-1'}, h('a', {href: '/jobs', class: 'crumb'}, 'Jobs'),
      ' / ', name), actions),
    msg.el, summaryBox,
    h('section', {'aria-labelledby': 'runs-h'}, h('h2', {id: 'runs-h'}, 'Runs'), runsBox),
    h('section', {'aria-labelledby': 'metrics-h'}, h('h2', {id: 'metrics-h'}, 'Metrics'), chartsBox),
    h('section', {'aria-labelledby': 'logs-h'}, h('h2', {id: 'logs-h'}, 'Logs'),
      h('div', {class: 'log-controls'}, field('Pod', podSelect), field('Show', tail),
        checkbox('Follow while it runs', follow), refreshLog),
      logMsg.el, logPre));

  let job = null;
  let timers = [];
  const clearTimers = () => {
    timers.forEach(clearTimeout);
    timers = [];
  };

  let missing = false;

  async function loadJob() {
    try {
      job = await api.get(base, {query: nsq});
    } catch (e) {
      if (!ctx.alive) return false;
      if (e.status === 404) {
        msg.error(`There is no job named ${name}${ns ? ` in ${ns}` : ''} (it may have been deleted).`);
        actions.hidden = true;
        missing = true;
      } else {
        msg.error(e.message);
      }
      return false;
    }
    if (!ctx.alive) return false;
    if (missing) {
      missing = false;
      msg.clear();
      actions.hidden = false;
    }
    showJob();
    return true;
  }

  function showJob() {
    const st = job.status || {};
    replace(summaryBox, summary(job),
      st.phase === 'Failed' && problem(st) ? h('p', {class: 'notice error'}, problem(st)) : null);
    keepFocus(runsBox, () => replace(runsBox, runsTable(job)));
    const suspended = Boolean(job.spec && job.spec.suspend);
    stop.hidden = FINISHED.has(st.phase) || suspended;
    resume.hidden = !suspended;
    const pods = (job.pods || []).slice().sort((a, b) => (a.run - b.run) || (a.rank - b.rank));
    const chosen = podSelect.value;
    replace(podSelect, pods.length ? pods.map((p) => h('option', {value: p.name},
      `run ${p.run}, rank ${p.rank}: ${p.name} (${p.phase || 'Pending'})`))
      : h('option', {value: ''}, 'No pods yet'));
    if (chosen && pods.some((p) => p.name === chosen)) podSelect.value = chosen;
  }

  async function loadMetrics() {
    try {
      const data = await api.get(`${base}/metrics`, {query: nsq});
      if (ctx.alive) replace(chartsBox, charts(data));
    } catch (e) {
      if (ctx.alive) replace(chartsBox, h('p', {class: 'notice error'}, e.message));
    }
  }

  async function loadLog() {
    if (!podSelect.value) {
      logPre.textContent = 'No pods yet: the log shows once a run has started.';
      return;
    }
    try {
      const text = await api.get(`${base}/logs`, {text: true,
        query: {...nsq, pod: podSelect.value, tail: tail.value}});
      if (!ctx.alive) return;
      logMsg.clear();
      const atEnd = logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 4;
      logPre.textContent = text || '(the log is empty so far)';
      if (atEnd) logPre.scrollTop = logPre.scrollHeight;
    } catch (e) {
      if (ctx.alive) logMsg.error(e.message);
    }
  }

  // While the job runs, its pods, metrics and log change without the job object changing (no
  // event tells of them): read them again every few seconds.
  function schedule() {
    clearTimers();
    if (!ctx.alive || !job) return;
    const running = !FINISHED.has((job.status || {}).phase);
    if (running) timers.push(setTimeout(refreshAll, 5000));
  }

  async function refreshAll() {
    if (!(await loadJob())) return;
    await Promise.all([loadMetrics(), follow.checked || !logPre.textContent ? loadLog() : null]);
    schedule();
  }

  podSelect.addEventListener('change', loadLog);
  tail.addEventListener('change', loadLog);
  refreshLog.addEventListener('click', () => busy(refreshLog, loadLog));
  stop.addEventListener('click', () => busy(stop, async () => {
    try {
      job = await api.post(`${base}/stop`, undefined, {query: nsq});
      msg.info(`Stopping ${name}: its running pods are deleted; runs not started will not start.`);
      refreshAll();
    } catch (e) {
      msg.error(e.message);
    }
  }));
  resume.addEventListener('click', () => busy(resume, async () => {
    try {
      job = await api.post(`${base}/resume`, undefined, {query: nsq});
      msg.info(`Resuming ${name}: unfinished runs start again from the beginning.`);
      refreshAll();
    } catch (e) {
      msg.error(e.message);
    }
  }));
  del.addEventListener('click', () => {
    const yes = h('button', {type: 'button', class: 'danger'}, `Delete ${name}`);
    const no = h('button', {type: 'button'}, 'Cancel');
    const restore = () => {
      replace(actions, stop, resume, del);
      del.focus();
    };
    no.addEventListener('click', restore);
    yes.addEventListener('click', () => busy(yes, async () => {
      try {
        await api.del(base, {query: nsq});
        ctx.navigate('/jobs');
      } catch (e) {
        msg.error(e.message);
        restore();
      }
    }));
    replace(actions, h('span', {class: 'confirm'}, 'Delete the job, its runs and logs? '), yes, no);
    no.focus();
  });

  const onChange = events.debounce(refreshAll, 400);
  ctx.onCleanup(events.subscribe('job', (ev) => {
    if (ev.type === 'RESYNC' || (ev.name === name && (!ns || ev.namespace === ns))) onChange();
  }));
  ctx.onCleanup(() => {
    onChange.cancel();
    clearTimers();
  });
  const created = ctx.data;
  if (created && created.name === name && (!ns || created.namespace === ns)) {
    // Just submitted: the API's cache may not have it for a moment, and its change event (or
    // the timer) brings the rest.
    job = {pods: [], ...created};
    showJob();
    logPre.textContent = 'No pods yet: the log shows once a run has started.';
    replace(chartsBox, charts(null));
    schedule();
    return;
  }
  await refreshAll();
}
