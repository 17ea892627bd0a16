// Admin: templates. List with phase and sharing, create and edit (a ready image, or a base
// image plus RUN/ENV steps), delete, the build's log, and the share link to copy.
import * as api from '../api.js';
import * as events from '../events.js';
import {h, replace, field, checkbox, messageArea, emptyState, pageHeader, phaseBadge, busy,
  keepFocus, uid} from '../dom.js';
import {age, problem, dateTime} from '../format.js';

const STEP = /^(RUN|ENV)\s+\S/i;

// The spec from the form, on top of `base` (an edited template keeps the fields this form does
// not show). Throws Error with a message naming the field.
export function specFromForm(values, base = {}) {
  const spec = JSON.parse(JSON.stringify(base || {}));
  if (values.source === 'image') {
    if (!values.image.trim()) throw new Error('Image: enter an image reference, e.g. ghcr.io/org/pytorch:2.4-cuda12.');
    spec.image = values.image.trim();
    delete spec.build;
  } else {
    const steps = values.steps.split('\n').map((l) => l.trim()).filter(Boolean);
    steps.forEach((line, i) => {
      if (!STEP.test(line)) {
        throw new Error(`Build steps, line ${i + 1}: only RUN or ENV instructions are allowed ("${line.slice(0, 60)}").`);
      }
    });
    spec.build = {steps};
    if (values.baseImage.trim()) spec.build.baseImage = values.baseImage.trim();
    delete spec.image;
  }
  if (values.repoUrl.trim()) {
    spec.repository = {url: values.repoUrl.trim()};
    if (values.repoRef.trim()) spec.repository.ref = values.repoRef.trim();
  } else {
    delete spec.repository;
  }
  spec.ide = values.ide;
  const res = spec.resources || {};
  for (const [key, raw, label] of [['default', values.gpus, 'Default GPUs'],
    ['maximum', values.maxGpus, 'Maximum GPUs']]) {
    const part = {...(res[key] || {})};
    if (String(raw).trim() === '') {
      delete part.gpus;
    } else {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > 16) throw new Error(`${label}: a whole number from 0 to 16.`);
      part.gpus = n;
    }
    if (Object.keys(part).length) res[key] = part;
    else delete res[key];
  }
  if (Object.keys(res).length) spec.resources = res;
  else delete spec.resources;
  spec.sharing = {enabled: Boolean(values.sharing),
    requireAccessKey: Boolean(values.sharing && values.requireAccessKey)};
  return spec;
}

function imageText(t) {
  const spec = t.spec || {};
  const st = t.status || {};
  if (spec.image) return spec.image;
  if (st.image) return st.image;
  return `built from ${(spec.build && spec.build.baseImage) || 'the default CUDA image'}`;
}

function sharingText(t) {
  const sh = (t.spec || {}).sharing || {};
  if (!sh.enabled) return 'Off';
  return sh.requireAccessKey ? 'On, with access key' : 'On';
}

function buildForm(existing, onSaved, onCancel) {
  const spec = (existing && existing.spec) || {};
  const editing = Boolean(existing);
  const msg = messageArea();
  const name = h('input', {name: 'name', required: true, autocomplete: 'off', spellcheck: 'false',
    value: existing ? existing.name : '', disabled: editing, maxlength: '50',
    pattern: '[a-z0-9]([-a-z0-9]*[a-z0-9])?'});
  const radioName = uid('source');
  const useImage = h('input', {type: 'radio', name: radioName, value: 'image',
    checked: !spec.build});
  const useBuild = h('input', {type: 'radio', name: radioName, value: 'build',
    checked: Boolean(spec.build)});
  const image = h('input', {name: 'image', value: spec.image || '', spellcheck: 'false',
    placeholder: 'ghcr.io/org/pytorch:2.4-cuda12'});
  const baseImage = h('input', {name: 'baseImage', spellcheck: 'false',
    value: (spec.build && spec.build.baseImage) || '',
    placeholder: 'empty: the operator\'s CUDA + cuDNN image'});
  const steps = h('textarea', {name: 'steps', rows: '6', spellcheck: 'false',
    placeholder: 'RUN pip install torch torchvision\nENV HF_HOME=/data/hf'});
  steps.value = ((spec.build && spec.build.steps) || []).join('\n');
  const repoUrl = h('input', {name: 'repoUrl', spellcheck: 'false', type: 'text',
    value: (spec.repository && spec.repository.url) || '',
    placeholder: 'https://github.com/org/project.git'});
  const repoRef = h('input', {name: 'repoRef', spellcheck: 'false',
    value: (spec.repository && spec.repository.ref) || '', placeholder: 'main'});
  const ide = h('select', {name: 'ide'},
    [['vscode', 'VS Code'], ['jupyter', 'JupyterLab'], ['none', 'None (batch jobs only)']].map(([v, t]) =>
      h('option', {value: v, selected: (spec.ide || 'vscode') === v}, t)));
  const res = spec.resources || {};
  const gpus = h('input', {name: 'gpus', type: 'number', min: '0', max: '16', step: '1',
    value: res.default && res.default.gpus !== undefined ? String(res.default.gpus) : ''});
  const maxGpus = h('input', {name: 'maxGpus', type: 'number', min: '0', max: '16', step: '1',
    value: res.maximum && res.maximum.gpus !== undefined ? String(res.maximum.gpus) : ''});
  const sh = spec.sharing || {};
  const sharing = h('input', {type: 'checkbox', name: 'sharing', checked: Boolean(sh.enabled)});
  const requireKey = h('input', {type: 'checkbox', name: 'requireAccessKey',
    checked: Boolean(sh.requireAccessKey)});

  const imageFields = h('div', {class: 'subfields'}, field('Image', image,
    'A ready image with your tools; workspaces and jobs run it as it is.'));
  const buildFields = h('div', {class: 'subfields'},
    field('Base image', baseImage, 'The build starts FROM this image.'),
    field('Build steps', steps, 'One RUN or ENV instruction per line, e.g. RUN pip install torch.'));
  const syncSource = () => {
    imageFields.hidden = !useImage.checked;
    buildFields.hidden = useImage.checked;
  };
  useImage.addEventListener('change', syncSource);
  useBuild.addEventListener('change', syncSource);
  const syncSharing = () => {
    requireKey.disabled = !sharing.checked;
  };
  sharing.addEventListener('change', syncSharing);
  syncSource();
  syncSharing();

  const save = h('button', {type: 'submit', class: 'primary'}, editing ? 'Save changes' : 'Create template');
  const cancel = h('button', {type: 'button', onclick: onCancel}, 'Cancel');
  useImage.id = uid('radio');
  useBuild.id = uid('radio');
  const form = h('form', {class: 'card', novalidate: true, 'aria-label': editing ? `Edit template ${existing.name}` : 'New template'},
    h('h2', null, editing ? `Edit ${existing.name}` : 'New template'),
    field('Name', name, 'Lower-case letters, digits and "-", at most 50 characters.'),
    h('fieldset', null, h('legend', null, 'Image'),
      h('div', {class: 'radios'},
        h('span', {class: 'radio'}, useImage, h('label', {htmlFor: useImage.id}, 'A ready image')),
        h('span', {class: 'radio'}, useBuild, h('label', {htmlFor: useBuild.id}, 'Build from a base image'))),
      imageFields, buildFields),
    h('fieldset', null, h('legend', null, 'Code'),
      h('div', {class: 'row'},
        field('Git repository', repoUrl, 'Cloned into each new workspace\'s home (optional).'),
        field('Branch or tag', repoRef))),
    h('fieldset', null, h('legend', null, 'Workspaces'),
      h('div', {class: 'row'},
        field('IDE', ide),
        field('Default GPUs', gpus, 'When a workspace or job asks for none.'),
        field('Maximum GPUs', maxGpus, 'Empty: no limit.'))),
    h('fieldset', null, h('legend', null, 'Sharing'),
      checkbox('Share link: signed-in users can create their own workspace from it', sharing),
      checkbox('Also require an access key', requireKey)),
    msg.el,
    h('div', {class: 'form-actions'}, save, cancel));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    msg.clear();
    const n = name.value.trim();
    if (!editing && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)) {
      msg.error('Name: lower-case letters, digits and "-", starting and ending with a letter or digit.');
      name.focus();
      return;
    }
    let newSpec;
    try {
      newSpec = specFromForm({source: useImage.checked ? 'image' : 'build', image: image.value,
        baseImage: baseImage.value, steps: steps.value, repoUrl: repoUrl.value, repoRef: repoRef.value,
        ide: ide.value, gpus: gpus.value, maxGpus: maxGpus.value, sharing: sharing.checked,
        requireAccessKey: requireKey.checked}, spec);
    } catch (err) {
      msg.error(err.message);
      return;
    }
    busy(save, async () => {
      try {
        const saved = editing
          ? await api.put(`/api/v1/templates/${api.seg(existing.name)}`, {spec: newSpec})
          : await api.post('/api/v1/templates', {name: n, spec: newSpec});
        onSaved(saved, editing);
      } catch (err) {
        msg.error(err.message);
      }
    });
  });
  return {form, focus: () => (editing ? image : name).focus()};
}

function shareUrl(t) {
  return t.share && t.share.url ? new URL(t.share.url, location.origin).href : '';
}

export async function render(root, ctx) {
  const msg = messageArea();
  const newButton = h('button', {type: 'button', class: 'primary'}, 'New template');
  const formBox = h('div');
  const panel = h('div', {class: 'panel-box'});
  const list = h('div', {'aria-busy': 'true'}, h('p', {class: 'loading'}, 'Loading…'));
  root.append(pageHeader('Templates', newButton), msg.el, formBox, panel, list);
  let buildTimer = null;
  let shareTimer = null;
  let shareTries = 0;

  function closeForm() {
    replace(formBox);
    newButton.hidden = false;
  }

  function openForm(existing) {
    const {form, focus} = buildForm(existing, (saved, edited) => {
      closeForm();
      msg.success(edited ? `Saved ${saved.name}.` : `Created ${saved.name}.`);
      load();
    }, () => {
      closeForm();
      newButton.focus();
    });
    replace(formBox, form);
    newButton.hidden = true;
    focus();
  }
  newButton.addEventListener('click', () => openForm(null));

  async function copyShare(t) {
    const url = shareUrl(t);
    const linkInput = h('input', {readOnly: true, value: url, class: 'mono', spellcheck: 'false',
      'aria-label': `Share link of ${t.name}`});
    linkInput.addEventListener('focus', () => linkInput.select());
    const status = h('p', {class: 'hint', role: 'status'});
    const key = t.share && t.share.accessKey;
    const keyInput = key ? h('input', {readOnly: true, value: key, class: 'mono',
      'aria-label': `Access key of ${t.name}`}) : null;
    const close = h('button', {type: 'button', onclick: () => replace(panel)}, 'Close');
    replace(panel, h('section', {class: 'card share-panel', 'aria-label': `Share link of ${t.name}`},
      h('h2', null, `Share link of ${t.name}`),
      field('Link', linkInput),
      keyInput ? field('Access key', keyInput, 'Give it to the users along with the link.') : null,
      status, h('div', {class: 'form-actions'}, close)));
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
      await navigator.clipboard.writeText(url);
      status.textContent = 'Copied to the clipboard.';
    } catch {
      status.textContent = 'Your browser did not let the page copy; the link is selected below: press Ctrl+C (⌘C).';
      linkInput.focus();
      linkInput.select();
    }
  }

  async function showBuild(t) {
    if (buildTimer) clearTimeout(buildTimer);
    const pre = h('pre', {class: 'log', tabindex: '0', 'aria-label': `Build log of ${t.name}`});
    const summary = h('div');
    const refresh = h('button', {type: 'button'}, 'Refresh');
    const close = h('button', {type: 'button'}, 'Close');
    const box = h('section', {class: 'card', 'aria-label': `Build of ${t.name}`},
      h('h2', null, `Build of ${t.name}`), summary, pre, h('div', {class: 'form-actions'}, refresh, close));
    replace(panel, box);
    close.addEventListener('click', () => {
      if (buildTimer) clearTimeout(buildTimer);
      replace(panel);
    });
    async function read() {
      if (buildTimer) clearTimeout(buildTimer);
      let b;
      try {
        b = await api.get(`/api/v1/templates/${api.seg(t.name)}/build`);
      } catch (e) {
        replace(summary, h('p', {class: 'notice error', role: 'alert'}, e.message));
        return;
      }
      if (!ctx.alive || !box.isConnected) return;
      replace(summary, h('p', null, phaseBadge(b.phase), b.image ? h('span', {class: 'mono'}, ` ${b.image}`) : null),
        h('ul', {class: 'conditions'}, (b.conditions || []).map((c) => h('li', null,
          h('strong', null, `${c.type}: ${c.status}`), c.reason ? ` (${c.reason})` : '',
          c.message ? ` ${c.message}` : '', c.lastTransitionTime ? h('span', {class: 'hint'},
            ` ${dateTime(c.lastTransitionTime)}`) : null))));
      pre.textContent = b.log || 'No log lines yet.';
      pre.scrollTop = pre.scrollHeight;
      if (b.phase === 'Building' || b.phase === 'Pending') buildTimer = setTimeout(read, 3000);
    }
    refresh.addEventListener('click', () => busy(refresh, read));
    await read();
    box.querySelector('h2').setAttribute('tabindex', '-1');
    box.querySelector('h2').focus();
  }

  function confirmDelete(cell, t) {
    const original = [...cell.childNodes];
    const yes = h('button', {type: 'button', class: 'danger'}, `Delete ${t.name}`);
    const no = h('button', {type: 'button'}, 'Cancel');
    yes.addEventListener('click', () => busy(yes, async () => {
      try {
        await api.del(`/api/v1/templates/${api.seg(t.name)}`);
        msg.success(`Deleted ${t.name}.`);
        load();
      } catch (e) {
        msg.error(e.message);
        replace(cell, ...original);
      }
    }));
    no.addEventListener('click', () => replace(cell, ...original));
    replace(cell, h('span', {class: 'confirm'}, 'Delete this template? '), yes, no);
    no.focus();
  }

  async function load() {
    const items = await api.loadList(ctx, msg, list, '/api/v1/templates');
    if (!items) return;
    if (!items.length) {
      replace(list, emptyState('No templates yet.',
        'A template is what workspaces and jobs are made from: an image, a repository and the GPUs they get.',
        'Press "New template" to make the first one.'));
      return;
    }
    items.sort((a, b) => a.name.localeCompare(b.name));
    // A share link is made by the operator just after sharing is turned on; its Secret may reach
    // the portal after the template's change event, so look again shortly.
    if (shareTimer) clearTimeout(shareTimer);
    shareTimer = null;
    const waiting = items.some((t) => t.spec && t.spec.sharing && t.spec.sharing.enabled && !t.share);
    shareTries = waiting ? shareTries + 1 : 0;
    if (waiting && shareTries <= 15) {
      shareTimer = setTimeout(() => {
        shareTimer = null;
        if (ctx.alive) load();
      }, 2000);
    }
    const rows = items.map((t) => {
      const st = t.status || {};
      const spec = t.spec || {};
      const actions = h('td', {class: 'actions'});
      const edit = h('button', {type: 'button', 'aria-label': `Edit ${t.name}`}, 'Edit');
      edit.addEventListener('click', () => openForm(t));
      const log = spec.build ? h('button', {type: 'button', 'aria-label': `Build log of ${t.name}`}, 'Build log') : null;
      if (log) log.addEventListener('click', () => showBuild(t));
      const copy = t.share && t.share.url
        ? h('button', {type: 'button', 'aria-label': `Copy share link of ${t.name}`}, 'Copy share link') : null;
      if (copy) copy.addEventListener('click', () => copyShare(t));
      const del = h('button', {type: 'button', class: 'danger-outline', 'aria-label': `Delete ${t.name}`}, 'Delete');
      del.addEventListener('click', () => confirmDelete(actions, t));
      actions.append(edit, log || '', copy || '', del);
      const why = st.phase === 'Failed' ? problem(st) : '';
      const def = (spec.resources && spec.resources.default) || {};
      return h('tr', {dataset: {name: t.name}},
        h('th', {scope: 'row'}, t.name),
        h('td', {class: 'mono wrap'}, imageText(t)),
        h('td', {class: 'status'}, phaseBadge(st.phase), why ? h('div', {class: 'why'}, why) : null),
        h('td', null, spec.ide || 'vscode'),
        h('td', {class: 'num'}, def.gpus !== undefined ? String(def.gpus) : '0'),
        h('td', null, sharingText(t)),
        h('td', null, age(t.createdAt)),
        actions);
    });
    keepFocus(list, () => replace(list, h('table', {class: 'table'},
      h('caption', {class: 'visually-hidden'}, 'Templates'),
      h('thead', null, h('tr', null, ['Name', 'Image', 'Phase', 'IDE', 'GPUs', 'Sharing', 'Age']
        .map((c) => h('th', {scope: 'col', class: c === 'GPUs' ? 'num' : null}, c)),
      h('th', {scope: 'col'}, h('span', {class: 'visually-hidden'}, 'Actions')))),
      h('tbody', null, rows))));
  }

  const reload = events.debounce(load, 250);
  ctx.onCleanup(events.subscribe('template', reload));
  ctx.onCleanup(() => {
    reload.cancel();
    if (buildTimer) clearTimeout(buildTimer);
    if (shareTimer) clearTimeout(shareTimer);
  });
  await load();
}
