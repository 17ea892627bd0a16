// Sign-in: username and password, then back to the page that asked (?rd=).
import * as api from '../api.js';
import {h, field, messageArea, busy} from '../dom.js';

export async function render(root, ctx) {
  const rd = api.safeRedirect(ctx.query.get('rd') || '/');
  const username = h('input', {name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false'});
  const password = h('input', {name: 'password', type: 'password', autocomplete: 'current-password',
    required: true});
  const msg = messageArea();
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Sign in');
  const form = h('form', {class: 'card narrow', novalidate: true},
    field('Username', username),
    field('Password', password),
    msg.el,
    h('div', {class: 'form-actions'}, submit));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!username.value.trim() || !password.value) {
      msg.error('Enter your username and password.');
      (username.value.trim() ? password : username).focus();
      return;
    }
    busy(submit, async () => {
      msg.clear();
      try {
        await api.login(username.value.trim(), password.value);
      } catch (err) {
        if (err.status === 429 && err.retryAfter) {
          msg.error(`${err.message} Try again in ${Math.ceil(err.retryAfter / 60)} minute(s).`);
        } else {
          msg.error(err.message);
        }
        password.select();
        password.focus();
        return;
      }
      ctx.navigate(rd, {replaceState: true});
    });
  });
  root.append(
    h('div', {class: 'login'},
      h('h1', {tabindex: '-1'}, 'Sign in to remote-code'),
      h('p', {class: 'lead'}, 'GPU workspaces and training jobs in your browser.'),
      form));
  username.focus();
}
