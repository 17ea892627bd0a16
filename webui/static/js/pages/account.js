// The signed-in user's account: change the password (every other session ends).
import * as api from '../api.js';
import {h, field, messageArea, busy} from '../dom.js';

export async function render(root) {
  const current = h('input', {name: 'currentPassword', type: 'password',
    autocomplete: 'current-password', required: true});
  const next = h('input', {name: 'newPassword', type: 'password', autocomplete: 'new-password',
    required: true, minlength: '8'});
  const again = h('input', {name: 'newPasswordAgain', type: 'password',
    autocomplete: 'new-password', required: true, minlength: '8'});
  const msg = messageArea();
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Change password');
  const form = h('form', {class: 'card narrow', novalidate: true},
    field('Current password', current),
    field('New password (at least 8 characters)', next),
    field('New password again', again),
    msg.el,
    h('div', {class: 'form-actions'}, submit));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    msg.clear();
    if (next.value.length < 8) {
      msg.error('The new password needs at least 8 characters.');
      next.focus();
      return;
    }
    if (next.value !== again.value) {
      msg.error('The two new passwords differ.');
      again.focus();
      return;
    }
    busy(submit, async () => {
      try {
        // The answer carries this session's new CSRF token; other sessions are over.
        api.setSession(await api.put('/api/v1/me/password',
          {currentPassword: current.value, newPassword: next.value}));
        form.reset();
        msg.info('Password changed. Your other sessions are signed out.');
      } catch (err) {
        msg.error(err.message);
      }
    });
  });
  const user = api.me();
  root.append(
    h('h1', {tabindex: '-1'}, 'Account'),
    h('p', null, user ? `Signed in as ${user.username} (${user.role}), namespace ${user.namespace}.` : ''),
    h('h2', null, 'Change password'),
    form);
}
