// Datasets: files in the shared datasets volume, mounted read-only at /data in workspaces and
// jobs. Upload with progress, list, delete.
import * as api from '../api.js';
import {h, replace, field, messageArea, emptyState, pageHeader, busy} from '../dom.js';
import {bytes, dateTime} from '../format.js';

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

// A file name as a dataset name: characters the API refuses become "_".
export function datasetName(fileName) {
  let n = String(fileName).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  if (n.length > 200) n = n.slice(0, 200);
  return n || 'dataset';
}

export async function render(root, ctx) {
  const msg = messageArea();
  const file = h('input', {type: 'file', name: 'file', required: true});
  const name = h('input', {name: 'name', spellcheck: 'false', autocomplete: 'off', maxlength: '200'});
  const progress = h('progress', {max: '1', value: '0', 'aria-label': 'Upload progress'});
  const progressText = h('span', {class: 'hint', 'aria-live': 'polite'});
  const progressRow = h('div', {class: 'progress-row'}, progress, progressText);
  progressRow.hidden = true;
  const uploadBtn = h('button', {type: 'submit', class: 'primary'}, 'Upload');
  const cancelBtn = h('button', {type: 'button', hidden: true}, 'Cancel upload');
  const form = h('form', {class: 'card', novalidate: true, 'aria-label': 'Upload a dataset'},
    h('h2', null, 'Upload a dataset'),
    h('div', {class: 'row'},
      field('File', file),
      field('Name', name, 'Letters, digits, ".", "_" and "-". Defaults to the file\'s name.')),
    progressRow,
    h('div', {class: 'form-actions'}, uploadBtn, cancelBtn));
  const list = h('div', {'aria-busy': 'true'}, h('p', {class: 'loading'}, 'Loading…'));
  root.append(pageHeader('Datasets'),
    h('p', {class: 'lead'}, 'Workspaces and jobs see these files read-only under ', h('code', null, '/data'), '.'),
    msg.el, form, h('h2', null, 'Files'), list);

  file.addEventListener('change', () => {
    if (file.files.length) name.value = datasetName(file.files[0].name);
  });

  let controller = null;
  cancelBtn.addEventListener('click', () => {
    if (controller) controller.abort();
  });
  ctx.onCleanup(() => {
    if (controller) controller.abort();
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    msg.clear();
    const f = file.files[0];
    if (!f) {
      msg.error('Choose a file to upload.');
      file.focus();
      return;
    }
    const n = name.value.trim() || datasetName(f.name);
    if (!NAME.test(n)) {
      msg.error('Name: 1-200 letters, digits, ".", "_" and "-", not starting with a dot.');
      name.focus();
      return;
    }
    busy(uploadBtn, async () => {
      controller = new AbortController();
      progress.max = Math.max(1, f.size);
      progress.value = 0;
      progressText.textContent = `0 of ${bytes(f.size)}`;
      progressRow.hidden = false;
      cancelBtn.hidden = false;
      try {
        await api.upload(`/api/v1/datasets/${api.seg(n)}`, f, (loaded, total) => {
          progress.max = Math.max(1, total);
          progress.value = Math.min(loaded, total);
          const pct = total ? Math.floor((loaded / total) * 100) : 100;
          progressText.textContent = `${bytes(loaded)} of ${bytes(total)} (${pct}%)`;
        }, controller.signal);
        if (!ctx.alive) return;
        progress.value = progress.max;
        progressText.textContent = `${bytes(f.size)} uploaded`;
        msg.success(`Uploaded ${n}.`);
        form.reset();
        load();
      } catch (err) {
        if (!ctx.alive) return;
        msg.error(err.status === 409
          ? `${err.message} Choose another name, or delete the existing file first.`
          : err.message);
        progressText.textContent = 'Upload failed.';
      } finally {
        controller = null;
        cancelBtn.hidden = true;
      }
    });
  });

  function confirmDelete(cell, d) {
    const original = [...cell.childNodes];
    const yes = h('button', {type: 'button', class: 'danger'}, `Delete ${d.name}`);
    const no = h('button', {type: 'button'}, 'Cancel');
    no.addEventListener('click', () => replace(cell, ...original));
    yes.addEventListener('click', () => busy(yes, async () => {
      try {
        await api.del(`/api/v1/datasets/${api.seg(d.name)}`);
        msg.success(`Deleted ${d.name}.`);
        load();
      } catch (e) {
        msg.error(e.message);
        replace(cell, ...original);
      }
    }));
    replace(cell, h('span', {class: 'confirm'}, 'Delete this file? Running jobs may still read it. '), yes, no);
    no.focus();
  }

  async function load() {
    const items = await api.loadList(ctx, msg, list, '/api/v1/datasets', {onError: (e) => {
      list.removeAttribute('aria-busy');
      if (e.status !== 503) return false;
      replace(list, emptyState('Datasets are not set up on this portal.', e.message));
      form.hidden = true;
      return true;
    }});
    if (!items) return;
    if (!items.length) {
      replace(list, emptyState('No datasets yet.', 'Upload a file above; it appears here when complete.'));
      return;
    }
    items.sort((a, b) => a.name.localeCompare(b.name));
    const admin = ctx.user.role === 'admin';
    replace(list, h('table', {class: 'table'},
      h('caption', {class: 'visually-hidden'}, 'Datasets'),
      h('thead', null, h('tr', null, h('th', {scope: 'col'}, 'Name'), h('th', {scope: 'col', class: 'num'}, 'Size'),
        h('th', {scope: 'col'}, 'Modified'), h('th', {scope: 'col'}, 'Uploaded by'),
        h('th', {scope: 'col'}, h('span', {class: 'visually-hidden'}, 'Actions')))),
      h('tbody', null, items.map((d) => {
        const actions = h('td', {class: 'actions'});
        if (admin || d.owner === ctx.user.username) {
          const del = h('button', {type: 'button', class: 'danger-outline', 'aria-label': `Delete ${d.name}`}, 'Delete');
          del.addEventListener('click', () => confirmDelete(actions, d));
          actions.append(del);
        }
        return h('tr', {dataset: {name: d.name}},
          h('th', {scope: 'row', class: 'mono'}, d.name),
          h('td', {class: 'num'}, bytes(d.size)),
          h('td', null, dateTime(d.modified)),
          h('td', null, d.owner || ''),
          actions);
      }))));
  }
  await load();
}
