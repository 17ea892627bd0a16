// Drives the portal's pages in headless Chromium the way people use them: an admin makes a
// shared template and a user account, the user opens the share link, gets a running workspace,
// runs a training job, uploads a dataset and reads their usage. run.sh starts `remote-code dev`
// and passes PORTAL_URL, ADMIN_USER, ADMIN_PASSWORD, STATE_DIR, ARTIFACTS and RESULTS_FILE.
//
// Each case prints "ok - name" or "FAIL - name: why"; RESULTS_FILE gets "passed failed".
// Cases depend on the ones before them (the user needs the template), as a person's session
// would; a case whose prerequisite failed fails too, naming it.
import {chromium} from 'playwright-core';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';

const BASE = (process.env.PORTAL_URL || 'http://127.0.0.1:8080/').replace(/\/+$/, '');
const ADMIN_USER = process.env.ADMIN_USER || 'admin';
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || '';
const STATE_DIR = process.env.STATE_DIR || '';
const ARTIFACTS = process.env.ARTIFACTS || path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts');
const RESULTS_FILE = process.env.RESULTS_FILE || '';

const USER = 'alice';
const USER_PASSWORD = 'alice-password-1';
const TEMPLATE = 'mnist-starter';
const JOB = 'train-mnist';
const LONG_JOB = 'long-run';
const SLOW = 90_000; // pods start after a second, but the ASan build is slow

fs.mkdirSync(ARTIFACTS, {recursive: true});
for (const f of fs.readdirSync(ARTIFACTS)) if (f.endsWith('.png')) fs.rmSync(path.join(ARTIFACTS, f));

// ---------------------------------------------------------------------------------------------
// Console errors: every page is watched; a case may allow the errors it causes on purpose
// (a 401 while signed out, a wrong password).

const consoleErrors = [];
let allowed = [];

function watch(page, who) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location() || {};
    const text = `${msg.text()} ${loc.url || ''}`.trim();
    if (allowed.some((re) => re.test(text))) return;
    consoleErrors.push(`${who} on ${page.url()}: ${text}`);
  });
  page.on('pageerror', (err) => {
    consoleErrors.push(`${who} on ${page.url()}: uncaught ${err.message}`);
  });
  return page;
}

async function allowing(patterns, fn) {
  const before = allowed;
  allowed = [...allowed, ...patterns];
  try {
    return await fn();
  } finally {
    // Late messages of the allowed request may still arrive a moment after.
    await new Promise((r) => setTimeout(r, 300));
    allowed = before;
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const visited = new Set();
let shotCount = 0;
async function screenshot(page, name) {
  shotCount += 1;
  visited.add(new URL(page.url()).pathname);
  const file = path.join(ARTIFACTS, `${String(shotCount).padStart(2, '0')}-${name}.png`);
  await page.screenshot({path: file, fullPage: true});
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

async function until(what, fn, timeout = SLOW, every = 250) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout / 1000}s waiting for ${what}${last instanceof Error ? ` (${last.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

async function heading(page, text, timeout = 15_000) {
  await page.getByRole('heading', {level: 1, name: text}).waitFor({timeout});
}

async function signIn(page, username, password) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', {name: 'Sign in'}).click();
}

// The simulator's admin endpoint (docs/simulator.md) scripts the pods of the job's runs.
function kubeconfig() {
  const text = fs.readFileSync(path.join(STATE_DIR, 'kubeconfig'), 'utf8');
  const pick = (key) => {
    const m = new RegExp(`^\\s*${key}:\\s*"?([^"\\s]+)"?\\s*$`, 'm').exec(text);
    return m ? m[1] : '';
  };
  return {server: pick('server'), token: pick('token'),
    ca: Buffer.from(pick('certificate-authority-data'), 'base64').toString()};
}

function simPut(pathName, body) {
  const kc = kubeconfig();
  const url = new URL(pathName, kc.server);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(url, {method: 'PUT', ca: kc.ca || undefined,
      headers: {Authorization: `Bearer ${kc.token}`, 'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(data)}}, (res) => {
      let out = '';
      res.on('data', (c) => { out += c; });
      res.on('end', () => (res.statusCode < 300 ? resolve(out)
        : reject(new Error(`PUT ${pathName}: ${res.statusCode} ${out}`))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

// ---------------------------------------------------------------------------------------------
// Cases

const results = [];
const done = new Set();

async function test(name, needs, fn) {
  const missing = needs.filter((n) => !done.has(n));
  if (missing.length) {
    results.push({name, ok: false});
    console.log(`FAIL - ${name}: needs "${missing.join('", "')}", which failed`);
    return;
  }
  const started = Date.now();
  try {
    await fn();
    done.add(name);
    results.push({name, ok: true});
    console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  } catch (e) {
    results.push({name, ok: false});
    console.log(`FAIL - ${name}: ${e.message.split('\n').slice(0, 6).join('\n    ')}`);
    for (const p of openPages) {
      try {
        await p.screenshot({path: path.join(ARTIFACTS, `failed-${name.replace(/[^a-z0-9]+/gi, '-')}-${openPages.indexOf(p)}.png`), fullPage: true});
      } catch {
        // The page may be gone.
      }
    }
  }
}

const openPages = [];
const state = {};

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function newPage(who) {
  const context = await browser.newContext({viewport: {width: 1280, height: 900}});
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: BASE});
  const page = watch(await context.newPage(), who);
  page.setDefaultTimeout(15_000);
  openPages.push(page);
  return page;
}

const admin = await newPage('admin');
const user = await newPage(USER);

await test('a signed-out visitor is sent to sign in, and a wrong password shows why', [], async () => {
  await allowing([/status of 401.*\/api\/v1\/(me|login)/], async () => {
    await admin.goto(`${BASE}/admin/templates`);
    await until('the sign-in page', () => admin.url().includes('/login?rd=%2Fadmin%2Ftemplates'), 15_000);
    await heading(admin, 'Sign in to remote-code');
    await screenshot(admin, 'login');
    await signIn(admin, ADMIN_USER, 'not-the-password');
    const alert = admin.getByRole('alert');
    await alert.waitFor();
    const text = (await alert.textContent()).trim();
    check(text.length > 0 && !/^The server answered/.test(text), `expected the API's message, got "${text}"`);
  });
});

await test('admin signs in and sees the admin links', [], async () => {
  await signIn(admin, ADMIN_USER, ADMIN_PASSWORD);
  await heading(admin, 'Templates');
  check(admin.url() === `${BASE}/admin/templates`, `back at the page that asked, not ${admin.url()}`);
  const nav = admin.getByRole('navigation', {name: 'Main'});
  for (const link of ['My projects', 'Jobs', 'Datasets', 'Usage', 'Templates', 'Users']) {
    await nav.getByRole('link', {name: link, exact: true}).waitFor();
  }
  await screenshot(admin, 'admin-templates-before');
});

await test('admin creates a shared template and copies its share link',
  ['admin signs in and sees the admin links'], async () => {
    await admin.getByRole('button', {name: 'New template'}).click();
    const form = admin.getByRole('form', {name: 'New template'});
    await form.getByLabel('Name', {exact: true}).fill(TEMPLATE);
    await form.getByLabel('A ready image').check();
    await form.getByLabel('Image', {exact: true}).fill('ghcr.io/example/pytorch:2.4-cuda12');
    await form.getByLabel('Default GPUs').fill('1');
    await form.getByLabel(/^Share link/).check();
    await screenshot(admin, 'admin-template-form');
    await form.getByRole('button', {name: 'Create template'}).click();
    await admin.getByText(`Created ${TEMPLATE}.`).waitFor();
    const row = admin.getByRole('row').filter({hasText: TEMPLATE});
    await row.getByText('Ready', {exact: true}).waitFor({timeout: SLOW});
    const copy = admin.getByRole('button', {name: `Copy share link of ${TEMPLATE}`});
    await copy.waitFor({timeout: SLOW});
    await copy.click();
    const field = admin.getByRole('textbox', {name: `Share link of ${TEMPLATE}`});
    await field.waitFor();
    const shown = await field.inputValue();
    check(new RegExp(`^${BASE}/share/[A-Za-z0-9_-]{16,}$`).test(shown), `share link looks wrong: ${shown}`);
    await admin.getByText('Copied to the clipboard.').waitFor();
    const copied = await admin.evaluate(() => navigator.clipboard.readText());
    check(copied === shown, `clipboard holds "${copied}", the page shows "${shown}"`);
    state.shareUrl = shown;
    await screenshot(admin, 'admin-templates');
  });

await test('admin creates a user account', ['admin signs in and sees the admin links'], async () => {
  await admin.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Users'}).click();
  await heading(admin, 'Users');
  const form = admin.getByRole('form', {name: 'New account'});
  await form.getByLabel('Username').fill(USER);
  await form.getByLabel('Password').fill(USER_PASSWORD);
  await form.getByLabel('Role').selectOption('user');
  await form.getByRole('button', {name: 'Create account'}).click();
  await admin.getByText(`Created user ${USER}`).waitFor();
  const row = admin.getByRole('row').filter({hasText: USER});
  await row.getByText(`rc-${USER}`).waitFor();
  await admin.getByRole('row').filter({hasText: ADMIN_USER}).getByText('admin', {exact: true}).waitFor();
  await screenshot(admin, 'admin-users');
});

await test('admin builds, edits and deletes a template, reading its build log',
  ['admin signs in and sees the admin links'], async () => {
    const name = 'scratch-build';
    await admin.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Templates'}).click();
    await heading(admin, 'Templates');
    await admin.getByRole('button', {name: 'New template'}).click();
    const form = admin.getByRole('form', {name: 'New template'});
    await form.getByLabel('Name', {exact: true}).fill(name);
    await form.getByLabel('Build from a base image').check();
    await form.getByLabel('Base image', {exact: true}).fill('python:3.12-slim');
    // Only RUN and ENV are allowed; the form says which line is wrong before sending anything.
    await form.getByLabel('Build steps').fill('RUN pip install torch\nCOPY . /src');
    await form.getByRole('button', {name: 'Create template'}).click();
    await form.getByRole('alert').filter({hasText: 'line 2'}).waitFor();
    await form.getByLabel('Build steps').fill('RUN pip install torch\nENV HF_HOME=/data/hf');
    await form.getByRole('button', {name: 'Create template'}).click();
    await admin.getByText(`Created ${name}.`).waitFor();
    const row = admin.getByRole('row').filter({hasText: name});
    await row.getByText('built from python:3.12-slim').waitFor();
    await row.getByRole('button', {name: `Build log of ${name}`}).click();
    const build = admin.getByRole('region', {name: `Build of ${name}`});
    await build.locator('.badge').waitFor();
    await build.getByRole('button', {name: 'Refresh'}).click();
    await build.getByLabel(`Build log of ${name}`).waitFor();
    await screenshot(admin, 'admin-template-build');
    await build.getByRole('button', {name: 'Close'}).click();
    await row.getByRole('button', {name: `Edit ${name}`}).click();
    const edit = admin.getByRole('form', {name: `Edit template ${name}`});
    check(await edit.getByLabel('Build steps').inputValue() === 'RUN pip install torch\nENV HF_HOME=/data/hf',
      'the edit form does not show the saved steps');
    await edit.getByLabel('Default GPUs').fill('2');
    await edit.getByRole('button', {name: 'Save changes'}).click();
    await admin.getByText(`Saved ${name}.`).waitFor();
    await until('the new default GPUs in the list', async () =>
      (await row.locator('td.num').textContent()).trim() === '2', 15_000);
    await row.getByRole('button', {name: `Delete ${name}`}).click();
    await admin.getByRole('button', {name: `Delete ${name}`}).click();
    await admin.getByText(`Deleted ${name}.`).waitFor();
    await until('the row to go', async () => (await row.count()) === 0, 30_000);
  });

await test('the user signs in with the keyboard and sees no admin links',
  ['admin creates a user account'], async () => {
    await user.goto(`${BASE}/login`);
    await heading(user, 'Sign in to remote-code');
    // The username field has focus on arrival; Tab moves to the password, Enter submits.
    await user.keyboard.type(USER);
    await user.keyboard.press('Tab');
    await user.keyboard.type(USER_PASSWORD);
    await user.keyboard.press('Enter');
    await heading(user, 'My projects');
    const nav = user.getByRole('navigation', {name: 'Main'});
    await nav.getByRole('link', {name: 'Jobs'}).waitFor();
    check(await nav.getByRole('link', {name: 'Templates'}).count() === 0, 'a user sees the Templates link');
    check(await nav.getByRole('link', {name: 'Users'}).count() === 0, 'a user sees the Users link');
    await user.getByText('You have no projects yet.').waitFor();
    // Keyboard focus shows: from the top of the page, Tab reaches the skip link, the brand,
    // then the first nav link, each with a visible outline.
    await user.evaluate(() => document.activeElement && document.activeElement.blur());
    const reached = [];
    for (let i = 0; i < 3; i += 1) {
      await user.keyboard.press('Tab');
      reached.push(await user.evaluate(() => {
        const el = document.activeElement;
        return {text: el.textContent.trim(), outline: getComputedStyle(el).outlineStyle};
      }));
    }
    check(reached[2].text === 'My projects', `Tab order: ${JSON.stringify(reached)}`);
    check(reached.every((r) => r.outline !== 'none'), `focus not visible: ${JSON.stringify(reached)}`);
    await screenshot(user, 'user-projects-empty');
  });

await test('an admin page tells a user it is for admins only',
  ['the user signs in with the keyboard and sees no admin links'], async () => {
    await user.goto(`${BASE}/admin/users`);
    await heading(user, 'Admins only');
    await screenshot(user, 'user-admin-only');
  });

await test('the user opens the share link and gets a running workspace',
  ['the user signs in with the keyboard and sees no admin links',
    'admin creates a shared template and copies its share link'], async () => {
    await user.goto(state.shareUrl);
    await heading(user, `Template ${TEMPLATE}`);
    await user.getByText('VS Code (in the browser)').waitFor();
    await screenshot(user, 'user-share');
    await user.getByRole('button', {name: 'Create my workspace'}).click();
    const box = user.getByRole('region', {name: 'Your workspace'});
    await box.getByText(TEMPLATE, {exact: true}).waitFor();
    const open = box.getByRole('link', {name: `Open ${TEMPLATE}`});
    await open.waitFor({timeout: SLOW});
    await box.getByText('Running', {exact: true}).waitFor();
    const href = await open.getAttribute('href');
    check(href.includes(`/w/rc-${USER}/${TEMPLATE}/`), `open link is ${href}`);
    check(await user.getByRole('button', {name: 'Create my workspace'}).count() === 0,
      'the create button is still offered for a running workspace');
    await screenshot(user, 'user-share-running');
  });

await test('the share link, opened again, shows the template\'s GPUs and the running workspace',
  ['the user opens the share link and gets a running workspace'], async () => {
    await user.goto(state.shareUrl);
    await heading(user, `Template ${TEMPLATE}`);
    const box = user.getByRole('region', {name: 'Your workspace'});
    await box.getByRole('link', {name: `Open ${TEMPLATE}`}).waitFor();
    const details = await user.locator('dl.details').evaluate((dl) => {
      const out = {};
      for (const dt of dl.querySelectorAll('dt')) out[dt.textContent] = dt.nextElementSibling.textContent;
      return out;
    });
    check(details.GPUs === '1', `the template's default GPUs show as ${JSON.stringify(details)}`);
  });

await test('my projects shows the workspace live as it stops and starts',
  ['the user opens the share link and gets a running workspace'], async () => {
    await user.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'My projects'}).click();
    await heading(user, 'My projects');
    const row = user.getByRole('row').filter({hasText: TEMPLATE});
    await row.getByText('Running', {exact: true}).waitFor();
    await row.getByRole('link', {name: `Open ${TEMPLATE}`}).waitFor();
    await screenshot(user, 'user-projects');
    await row.getByRole('button', {name: `Stop ${TEMPLATE}`}).click();
    // No reload: the change arrives over the event stream.
    await row.getByText('Stopped', {exact: true}).waitFor({timeout: SLOW});
    check(await row.getByRole('link', {name: `Open ${TEMPLATE}`}).count() === 0, 'a stopped workspace offers Open');
    await row.getByRole('button', {name: `Start ${TEMPLATE}`}).click();
    await row.getByText('Running', {exact: true}).waitFor({timeout: SLOW});
  });

await test('the user submits a sweep job and sees its runs, logs and Succeeded',
  ['the user opens the share link and gets a running workspace'], async () => {
    // Without STATE_DIR (a portal not started by run.sh) the pods run as the cluster makes them.
    if (STATE_DIR) await simPut('/sim/pod-scripts', [{namespace: `rc-${USER}`, selector: `remotecode.dev/name=${LONG_JOB}`,
      annotations: {'sim.remotecode.dev/run-seconds': '600'}},
    {namespace: `rc-${USER}`, selector: `remotecode.dev/name=${JOB}`,
      annotations: {
        'sim.remotecode.dev/run-seconds': '3',
        'sim.remotecode.dev/log': [
          'starting with lr=$(lr)',
          'remotecode.metric loss=0.9 step=1',
          'remotecode.metric loss=0.5 step=2',
          'remotecode.metric loss=$(lr) accuracy=0.93 step=3',
          'training done',
        ].join('\n'),
      }}]);
    await user.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Jobs'}).click();
    await heading(user, 'Training jobs');
    await user.getByText('No training jobs yet.').waitFor();
    await screenshot(user, 'user-jobs-empty');
    await user.getByRole('button', {name: 'Submit a job'}).click();
    const form = user.getByRole('form', {name: 'Submit a training job'});
    await form.getByLabel('Name', {exact: true}).fill(JOB);
    await until('the template in the list', async () =>
      (await form.getByLabel('Template').locator('option').allTextContents()).includes(TEMPLATE), 15_000);
    await form.getByLabel('Template').selectOption(TEMPLATE);
    await form.getByLabel('Command').fill('python train.py');
    await form.getByLabel('Arguments').fill('--lr=$(lr)');
    await form.getByLabel('Sweep parameters').fill('lr=0.1,0.01');
    await screenshot(user, 'user-job-form');
    await form.getByRole('button', {name: 'Submit job'}).click();
    await heading(user, `Jobs / ${JOB}`);
    check(new URL(user.url()).pathname === `/jobs/${JOB}`, `job page at ${user.url()}`);
    const status = user.locator('.details dd').first();
    await until('the job to succeed', async () => (await status.textContent()).includes('Succeeded'), SLOW);
    const runs = user.getByRole('table').filter({has: user.getByRole('columnheader', {name: 'lr'})});
    await runs.waitFor();
    for (const value of ['0.1', '0.01']) {
      const row = runs.getByRole('row').filter({has: user.getByRole('cell', {name: value, exact: true})});
      await row.getByText('Succeeded').waitFor({timeout: SLOW});
    }
    const log = user.getByLabel('Pod log');
    await until('run 0\'s log', async () => (await log.textContent()).includes('starting with lr=0.1'), 30_000);
    check((await log.textContent()).includes('remotecode.metric loss=0.1 accuracy=0.93 step=3'),
      'the log lacks the metric lines');
    const pods = await user.getByLabel('Pod', {exact: true}).locator('option').allTextContents();
    check(pods.length === 2, `expected two pods to choose from, got ${JSON.stringify(pods)}`);
    await user.getByLabel('Pod', {exact: true}).selectOption({index: 1});
    await until('run 1\'s log', async () => (await log.textContent()).includes('starting with lr=0.01'), 30_000);
  });

await test('the job page charts each run\'s metrics',
  ['the user submits a sweep job and sees its runs, logs and Succeeded'], async () => {
    const loss = user.locator('figure').filter({has: user.locator('figcaption', {hasText: /^loss$/})});
    await until('two loss lines', async () => (await loss.locator('polyline').count()) === 2, 30_000);
    await loss.locator('li', {hasText: 'run 0 (lr=0.1)'}).waitFor();
    await loss.locator('li', {hasText: 'run 1 (lr=0.01)'}).waitFor();
    const dots = await loss.locator('circle').count();
    check(dots === 6, `expected 3 points per run, got ${dots} points`);
    // The runs table puts each run's parameters next to its last metrics.
    const runsTable = user.getByRole('table').filter({has: user.getByRole('columnheader', {name: 'lr'})});
    let table = [];
    const sideBySide = async () => {
      table = await runsTable.evaluate((t) => {
        const heads = [...t.querySelectorAll('thead th')].map((th) => th.textContent.trim());
        return [...t.querySelectorAll('tbody tr')].map((tr) => Object.fromEntries(
          [...tr.children].map((c, i) => [heads[i], c.textContent.trim()])));
      });
      const byLr = Object.fromEntries(table.map((r) => [r.lr, r]));
      return byLr['0.1'] && byLr['0.1'].loss === '0.1' && byLr['0.01'] && byLr['0.01'].loss === '0.01'
        && byLr['0.1'].accuracy === '0.93';
    };
    try {
      await until('each run\'s last metrics in the runs table', sideBySide, 30_000);
    } catch (e) {
      throw new Error(`${e.message}; runs table: ${JSON.stringify(table)}`);
    }
    const acc = user.locator('figure').filter({has: user.locator('figcaption', {hasText: /^accuracy$/})});
    await acc.locator('circle').first().waitFor();
    await screenshot(user, 'user-job');
  });

await test('the jobs table filters by status and name and opens a job',
  ['the user submits a sweep job and sees its runs, logs and Succeeded'], async () => {
    await user.getByRole('link', {name: 'Jobs', exact: true}).first().click();
    await heading(user, 'Training jobs');
    const row = user.getByRole('row').filter({hasText: JOB});
    await row.getByText('Succeeded').waitFor();
    await user.getByLabel('Status').selectOption('Failed');
    await user.getByRole('button', {name: 'Filter'}).click();
    await user.getByText('No jobs match these filters.').waitFor();
    check(user.url().includes('status=Failed'), 'the filter is not in the address');
    await user.getByRole('button', {name: 'Clear'}).click();
    await row.waitFor();
    await user.getByLabel('Name contains').fill('mnist');
    await user.getByLabel('Status').selectOption('Succeeded');
    await user.getByRole('button', {name: 'Filter'}).click();
    await row.waitFor();
    await user.getByLabel('Name contains').fill('nothing-like-it');
    await user.getByRole('button', {name: 'Filter'}).click();
    await user.getByText('No jobs match these filters.').waitFor();
    await user.getByRole('button', {name: 'Clear'}).click();
    await screenshot(user, 'user-jobs');
    await row.getByText('Succeeded').click();
    await heading(user, `Jobs / ${JOB}`);
  });

await test('the user stops a running job',
  ['the user submits a sweep job and sees its runs, logs and Succeeded'], async () => {
    await user.getByRole('link', {name: 'Jobs', exact: true}).first().click();
    await heading(user, 'Training jobs');
    await user.getByRole('button', {name: 'Submit a job'}).click();
    const form = user.getByRole('form', {name: 'Submit a training job'});
    await form.getByLabel('Name', {exact: true}).fill(LONG_JOB);
    await until('the template in the list', async () =>
      (await form.getByLabel('Template').locator('option').allTextContents()).includes(TEMPLATE), 15_000);
    await form.getByLabel('Template').selectOption(TEMPLATE);
    await form.getByLabel('Command').fill('sleep 600');
    await form.getByRole('button', {name: 'Submit job'}).click();
    await heading(user, `Jobs / ${LONG_JOB}`);
    const status = user.locator('.details dd').first();
    await until('the job to run', async () => (await status.textContent()).includes('Running'), SLOW);
    await until('its pod to run', async () =>
      (await user.getByLabel('Pod', {exact: true}).locator('option').allTextContents()).some((t) => t.includes('(Running)')), SLOW);
    // Stopping deletes the pods: the log view may ask once for a pod that has just gone (404).
    await allowing([/status of 404.*\/api\/v1\/jobs\/long-run\/logs/], async () => {
      await user.getByRole('button', {name: 'Stop', exact: true}).click();
      await until('the job to stop', async () => (await status.textContent()).includes('Stopped'), SLOW);
      check(await user.getByRole('button', {name: 'Stop', exact: true}).isHidden(), 'Stop is still offered');
      await screenshot(user, 'user-job-stopped');
      await user.getByRole('button', {name: 'Resume', exact: true}).click();
      await until('the job to run again', async () => (await status.textContent()).includes('Running'), SLOW);
      await user.getByRole('button', {name: 'Stop', exact: true}).click();
      await until('the job to stop again', async () => (await status.textContent()).includes('Stopped'), SLOW);
    });
  });

await test('the user uploads a dataset, watches the progress reach its end, and deletes it',
  ['the user signs in with the keyboard and sees no admin links'], async () => {
    const size = 4 * 1024 * 1024 + 123;
    const file = path.join(os.tmpdir(), `rc-browser-${process.pid}-mnist.bin`);
    fs.writeFileSync(file, crypto.randomBytes(size));
    try {
      await user.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Datasets'}).click();
      await heading(user, 'Datasets');
      await user.getByText('No datasets yet.').waitFor();
      await user.getByLabel('File').setInputFiles(file);
      const name = path.basename(file);
      check(await user.getByLabel('Name', {exact: true}).inputValue() === name, 'the name is not the file\'s');
      await user.getByRole('button', {name: 'Upload', exact: true}).click();
      await user.getByText(`Uploaded ${name}.`).waitFor({timeout: SLOW});
      const bar = user.getByRole('progressbar', {name: 'Upload progress'});
      const [value, max] = await bar.evaluate((el) => [el.value, el.max]);
      check(max === size && value === max, `progress is ${value} of ${max}, want ${size} of ${size}`);
      const row = user.getByRole('row').filter({hasText: name});
      await row.getByText('4.0 MiB').waitFor();
      await row.getByText(USER, {exact: true}).waitFor();
      await screenshot(user, 'user-datasets');
      await row.getByRole('button', {name: `Delete ${name}`}).click();
      await user.getByRole('button', {name: `Delete ${name}`}).click();
      await user.getByText('No datasets yet.').waitFor();
    } finally {
      fs.rmSync(file, {force: true});
    }
  });

await test('the usage page charts GPUs against the quota and GPU-hours',
  ['the user opens the share link and gets a running workspace'], async () => {
    await user.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: 'Usage'}).click();
    await heading(user, 'GPU usage');
    const gpus = user.locator('figure').filter({has: user.locator('figcaption', {hasText: 'GPUs in use'})});
    await until('one GPU in use of the quota', async () => /1 of [1-9]\d* GPUs/.test(await gpus.textContent()), 30_000);
    const hours = user.locator('figure').filter({has: user.locator('figcaption', {hasText: 'GPU-hours'})});
    check(await hours.locator('rect.bar').count() === 3, 'GPU-hours has not three bars');
    for (const label of ['last day', 'last week', 'last month']) await hours.getByText(label).waitFor();
    await screenshot(user, 'user-usage');
  });

await test('admin sees every user\'s objects on every page',
  ['admin signs in and sees the admin links', 'the user submits a sweep job and sees its runs, logs and Succeeded'], async () => {
    await admin.goto(`${BASE}/`);
    await heading(admin, 'My projects');
    await admin.getByRole('row').filter({hasText: `rc-${USER}`}).waitFor();
    await screenshot(admin, 'admin-projects');
    await admin.goto(`${BASE}/jobs`);
    await heading(admin, 'Training jobs');
    await admin.getByRole('row').filter({hasText: JOB}).getByRole('link', {name: JOB}).click();
    await heading(admin, `Jobs / ${JOB}`);
    check(admin.url().includes(`namespace=rc-${USER}`), `job link lacks the namespace: ${admin.url()}`);
    await admin.getByLabel('Pod log').filter({hasText: 'starting with lr='}).waitFor({timeout: 30_000});
    await screenshot(admin, 'admin-job');
    await admin.goto(`${BASE}/usage`);
    await heading(admin, 'GPU usage');
    await admin.getByRole('region', {name: `Usage of ${USER}`}).waitFor();
    await screenshot(admin, 'admin-usage');
    await admin.goto(`${BASE}/datasets`);
    await heading(admin, 'Datasets');
    await screenshot(admin, 'admin-datasets');
    await admin.goto(`${BASE}/no/such/page`);
    await heading(admin, 'Page not found');
  });

await test('the user changes their password on the account page',
  ['the user signs in with the keyboard and sees no admin links'], async () => {
    await user.getByRole('link', {name: USER, exact: false}).first().click();
    await heading(user, 'Account');
    await user.getByLabel('Current password').fill(USER_PASSWORD);
    await user.getByLabel('New password (at least 8 characters)').fill('short');
    await user.getByLabel('New password again').fill('short');
    await user.getByRole('button', {name: 'Change password'}).click();
    await user.getByText('The new password needs at least 8 characters.').waitFor({timeout: 10_000});
    await user.getByLabel('New password (at least 8 characters)').fill(`${USER_PASSWORD}-new`);
    await user.getByLabel('New password again').fill(`${USER_PASSWORD}-new`);
    await user.getByRole('button', {name: 'Change password'}).click();
    await user.getByText('Password changed.', {exact: false}).waitFor({timeout: 15_000});
    await screenshot(user, 'user-account');
    // The same session goes on working (it got a new cookie and CSRF token).
    await user.getByRole('link', {name: 'Jobs', exact: true}).first().click();
    await heading(user, 'Training jobs');
  });

await test('signing out ends the session', ['the user signs in with the keyboard and sees no admin links'], async () => {
  await user.getByRole('button', {name: 'Sign out'}).click();
  await heading(user, 'Sign in to remote-code');
  await allowing([/status of 401.*\/api\/v1\/me/], async () => {
    await user.goto(`${BASE}/jobs`);
    await until('the sign-in page', () => user.url().includes('/login?rd=%2Fjobs'), 15_000);
  });
});

await test('no page logged a console error', [], async () => {
  check(visited.size >= 8, `only ${visited.size} pages were visited`);
  check(consoleErrors.length === 0, `console errors:\n${consoleErrors.join('\n')}`);
});

await browser.close();

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
if (RESULTS_FILE) fs.writeFileSync(RESULTS_FILE, `${passed} ${failed}\n`);
console.log(`portal.test.mjs: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
