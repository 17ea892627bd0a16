// Admin: portal accounts. List, and create a user or an admin.
import * as api from '../api.js';
import {h, replace, field, messageArea, emptyState, pageHeader, busy} from '../dom.js';

const NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

export async function render(root, ctx) {
  const msg = messageArea();
  const username = h('input', {name: 'username', required: true, autocomplete: 'off',
    spellcheck: 'false', autocapitalize: 'none', maxlength: '32'});
  const password = h('input', {name: 'password', type: 'password', required: true,
    autocomplete: 'new-password', minlength: '8'});
  const role = h('select', {name: 'role'}, h('option', {value: 'user'}, 'User'),
    h('option', {value: 'admin'}, 'Admin (manages templates and users)'));
  const create = h('button', {type: 'submit', class: 'primary'}, 'Create account');
  const form = h('form', {class: 'card', novalidate: true, 'aria-label': 'New account'},
    h('h2', null, 'New account'),
    h('div', {class: 'row'},
      field('Username', username, '1-32 of a-z, 0-9 and "-"; starts and ends with a letter or digit.'),
      field('Password', password, 'At least 8 characters. Tell it to the person; they can change it.'),
      field('Role', role)),
    h('div', {class: 'form-actions'}, create));
  const list = h('div', {'aria-busy': 'true'}, h('p', {class: 'loading'}, 'Loading…'));
  root.append(pageHeader('Users'), msg.el, form, h('h2', null, 'Accounts'), list);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = username.value.trim();
    if (!NAME.test(name)) {
      msg.error('Username: 1-32 of a-z, 0-9 and "-", starting and ending with a letter or digit.');
      username.focus();
      return;
    }
    if (password.value.length < 8) {
      msg.error('Password: at least 8 characters.');
      password.focus();
      return;
    }
    busy(create, async () => {
      try {
        const u = await api.post('/api/v1/users', {username: name, password: password.value,
          role: role.value});
        msg.success(`Created ${u.role === 'admin' ? 'admin' : 'user'} ${u.username} (namespace ${u.namespace}).`);
        form.reset();
        username.focus();
        load();
      } catch (err) {
        msg.error(err.message);
      }
    });
  });

  async function load() {
    const items = await api.loadList(ctx, msg, list, '/api/v1/users');
    if (!items) return;
    if (!items.length) {
      replace(list, emptyState('No accounts yet.'));
      return;
    }
    items.sort((a, b) => a.username.localeCompare(b.username));
    replace(list, h('table', {class: 'table'},
      h('caption', {class: 'visually-hidden'}, 'Accounts'),
      h('thead', null, h('tr', null, h('th', {scope: 'col'}, 'Username'), h('th', {scope: 'col'}, 'Role'),
        h('th', {scope: 'col'}, 'Namespace'))),
      h('tbody', null, items.map((u) => h('tr', {dataset: {name: u.username}},
        h('th', {scope: 'row'}, u.username,
          u.username === ctx.user.username ? h('span', {class: 'hint'}, ' (you)') : null),
        h('td', null, u.role), h('td', {class: 'mono'}, u.namespace))))));
  }
  await load();
}
