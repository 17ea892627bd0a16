// Which page module serves which path. Modules load on first use.

export const routes = {
  login: {pattern: '/login', title: 'Sign in', public: true, load: () => import('./pages/login.js')},
  projects: {pattern: '/', title: 'My projects', load: () => import('./pages/projects.js')},
  share: {pattern: '/share/:token', title: 'Shared template', load: () => import('./pages/share.js')},
  jobs: {pattern: '/jobs', title: 'Training jobs', load: () => import('./pages/jobs.js')},
  job: {pattern: '/jobs/:name', title: 'Training job', load: () => import('./pages/job.js')},
  datasets: {pattern: '/datasets', title: 'Datasets', load: () => import('./pages/datasets.js')},
  usage: {pattern: '/usage', title: 'GPU usage', load: () => import('./pages/usage.js')},
  account: {pattern: '/account', title: 'Account', load: () => import('./pages/account.js')},
  templates: {pattern: '/admin/templates', title: 'Templates', admin: true,
    load: () => import('./pages/templates.js')},
  users: {pattern: '/admin/users', title: 'Users', admin: true, load: () => import('./pages/users.js')},
  notFound: {title: 'Page not found', load: () => import('./pages/notfound.js')},
};

// {route, params} for a path, or null.
export function matchRoute(path) {
  const parts = path.split('/').filter(Boolean);
  for (const route of Object.values(routes)) {
    if (!route.pattern) continue;
    const want = route.pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < want.length; i += 1) {
      if (want[i].startsWith(':')) {
        try {
          params[want[i].slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          ok = false;
        }
      } else if (want[i] !== parts[i]) {
        ok = false;
      }
      if (!ok) break;
    }
    if (ok) return {route, params};
  }
  return null;
}
