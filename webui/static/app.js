// The portal's single-page shell: the server answers every page path with index.html, this
// module works out which page it is, makes sure someone is signed in, and renders the page.
import * as api from './js/api.js';
import * as events from './js/events.js';
import {h, replace} from './js/dom.js';
import {routes, matchRoute} from './js/routes.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const account = document.getElementById('account');

let cleanup = [];
let renderSeq = 0;

function runCleanup() {
  for (const fn of cleanup.splice(0)) {
    try {
      fn();
    } catch (e) {
      console.warn('page cleanup failed', e);
    }
  }
}

// `data` reaches the next page as ctx.data: e.g. the object just created, which the API's
// cache may not list for a moment yet.
let handoff = null;

export function navigate(path, {replaceState = false, data = null} = {}) {
  const url = new URL(path, location.origin);
  if (url.origin !== location.origin || !matchRoute(url.pathname)) {
    location.assign(url.href);
    return;
  }
  handoff = data;
  if (replaceState) history.replaceState(null, '', url.pathname + url.search + url.hash);
  else history.pushState(null, '', url.pathname + url.search + url.hash);
  render();
}

function navLink(href, text) {
  const here = location.pathname === href || (href !== '/' && location.pathname.startsWith(`${href}/`));
  return h('a', {href, 'aria-current': here ? 'page' : false}, text);
}

function renderChrome(user) {
  if (!user) {
    nav.hidden = true;
    account.hidden = true;
    replace(nav);
    replace(account);
    return;
  }
  const links = [
    navLink('/', 'My projects'),
    navLink('/jobs', 'Jobs'),
    navLink('/datasets', 'Datasets'),
    navLink('/usage', 'Usage'),
  ];
  if (user.role === 'admin') {
    links.push(h('span', {class: 'nav-sep', 'aria-hidden': 'true'}));
    links.push(navLink('/admin/templates', 'Templates'));
    links.push(navLink('/admin/users', 'Users'));
  }
  replace(nav, h('ul', null, links.map((a) => h('li', null, a))));
  nav.hidden = false;
  const signOut = h('button', {type: 'button', class: 'link-button', onclick: async () => {
    signOut.disabled = true;
    events.close();
    try {
      await api.logout();
    } catch {
      // Signed out or not, the next page asks for a sign-in.
    }
    location.assign('/login');
  }}, 'Sign out');
  replace(account,
    h('a', {class: 'who', href: '/account', title: 'Your account'}, user.username,
      user.role === 'admin' ? h('span', {class: 'role'}, 'admin') : null),
    signOut);
  account.hidden = false;
}

async function render() {
  const seq = ++renderSeq;
  const data = handoff;
  handoff = null;
  runCleanup();
  const path = location.pathname;
  const found = matchRoute(path);
  const route = found ? found.route : routes.notFound;
  const params = found ? found.params : {};

  let user = api.me();
  if (!route.public && !user) {
    try {
      user = await api.loadSession();
    } catch (e) {
      if (seq !== renderSeq) return;
      if (e.status === 401) {
        location.replace(api.loginPath());
        return;
      }
      renderChrome(null);
      replace(main, h('div', {class: 'page'}, h('h1', {tabindex: '-1'}, 'The portal is not available'),
        h('p', {class: 'notice error', role: 'alert'}, e.message)));
      return;
    }
  }
  if (seq !== renderSeq) return;
  renderChrome(route.public ? null : user);
  if (route.admin && user.role !== 'admin') {
    document.title = 'Not allowed · remote-code';
    replace(main, h('div', {class: 'page'}, h('h1', {tabindex: '-1'}, 'Admins only'),
      h('p', null, 'This page is for administrators. ', h('a', {href: '/'}, 'Back to my projects'))));
    focusHeading();
    return;
  }
  document.title = `${route.title} · remote-code`;
  const container = h('div', {class: 'page'});
  replace(main, container);
  const ctx = {
    params,
    query: new URLSearchParams(location.search),
    data,
    user,
    navigate,
    onCleanup: (fn) => cleanup.push(fn),
    // False once the user has left the page: late answers must not touch it.
    get alive() {
      return seq === renderSeq;
    },
  };
  try {
    const mod = await route.load();
    if (seq !== renderSeq) return;
    await mod.render(container, ctx);
  } catch (e) {
    if (seq !== renderSeq) return;
    console.warn('page failed', e);
    replace(container, h('h1', {tabindex: '-1'}, route.title),
      h('p', {class: 'notice error', role: 'alert'}, e.message || String(e)));
  }
  if (seq === renderSeq) focusHeading();
}

// After a navigation, keyboard and screen-reader users start at the new page's heading.
let firstRender = true;
function focusHeading() {
  if (firstRender) {
    firstRender = false;
    return;
  }
  const h1 = main.querySelector('h1');
  if (h1) h1.focus({preventScroll: false});
}

// Same-origin links to pages are handled here instead of reloading the whole app.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || a.dataset.external !== undefined) return;
  if (a.getAttribute('href').startsWith('#')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !matchRoute(url.pathname)) return;
  e.preventDefault();
  if (url.pathname + url.search === location.pathname + location.search) return;
  navigate(url.pathname + url.search + url.hash);
});

window.addEventListener('popstate', () => render());

render();
