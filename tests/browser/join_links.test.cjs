// Real-browser tests of join links: the real `roombus` binary, Debian's chromium driven by
// puppeteer-core, JWTs checked with Debian's python3-jwt. Traffic stays on loopback: the Jitsi
// server is answered by request interception, and every other host name resolves to nothing.
//
// Usage: node join_links.test.cjs <roombus binary> <screenshot directory>
// (CTest runs it with NODE_PATH pointing at the packages tests/browser/npm-install put in place.)
'use strict';

const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const puppeteer = require('puppeteer-core');

const [roombusBinary, screenshotArg] = process.argv.slice(2);
if (!roombusBinary || !screenshotArg) {
  console.error('usage: node join_links.test.cjs <roombus binary> <screenshot directory>');
  process.exit(2);
}
const screenshotDir = process.env.ROOMBUS_SCREENSHOT_DIR || screenshotArg;
const ADMIN_TOKEN = 'browser-test-admin-token-0123456789';
const APP_SECRET = 'browser-test-app-secret';
const JITSI = 'meet.example.test';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'roombus-browser-'));
fs.mkdirSync(screenshotDir, { recursive: true });

// `roombus serve` on a free loopback port; resolves to { child, base } once it listens.
function startRoombus() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('ROOMBUS_')));
  const child = spawn(roombusBinary, [
    'serve', '--data-dir', path.join(scratch, 'data'), '--listen', '127.0.0.1:0',
    '--admin-token', ADMIN_TOKEN, '--timezone', 'Europe/Berlin',
  ], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`roombus did not start:\n${log}`)), 20000);
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: m[1] });
      }
    });
    child.on('exit', (code) => reject(new Error(`roombus exited with ${code}:\n${log}`)));
  });
}

async function call(base, method, target, { bearer, json, form } = {}) {
  const headers = {};
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body;
  if (json) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = new URLSearchParams(form);
  }
  const reply = await fetch(base + target, { method, headers, body });
  const text = await reply.text();
  assert.ok(reply.ok, `${method} ${target}: ${reply.status} ${text}`);
  return JSON.parse(text);
}

// A room starting `minutesAhead` from now, 45 minutes long; its info answer's joinBrowser link.
async function roomLink(base, key, name, minutesAhead) {
  const start = new Date(Date.now() + minutesAhead * 60000).toISOString().slice(0, 16) + 'Z';
  const created = await call(base, 'POST', '/api/v1/room', {
    bearer: key,
    form: { server: JITSI, email: 'mod@example.com', name, start, duration: '45' },
  });
  assert.equal(created.error, false, JSON.stringify(created));
  const info = await call(base, 'GET', `/api/v1/info/${created.uid}`);
  assert.match(info.joinBrowser, /\/room\/join\/b\/[A-Za-z0-9_-]{22}$/);
  return info.joinBrowser;
}

// The claims of a JWT as Debian's python3-jwt verifies them (HS256 under the app secret).
function verifiedClaims(token) {
  const script = [
    'import jwt, json, sys',
    'print(json.dumps(jwt.decode(sys.argv[1], sys.argv[2], algorithms=["HS256"],',
    '                            audience="jitsi_admin")))',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, token, APP_SECRET]));
}

async function newPage(browser, viewport, language) {
  const page = await browser.newPage();
  await page.setViewport(viewport);
  if (language) await page.setExtraHTTPHeaders({ 'Accept-Language': language });
  const problems = [];
  // Console errors (CSP violations among them), script errors, failed loads. Chromium probes
  // /favicon.ico on its own once per origin; roombus is an API host and answers that with 404.
  const probe = (url) => new URL(url).pathname === '/favicon.ico';
  page.on('console', (m) => {
    if (m.type() === 'error' && !probe(m.location().url || 'http://x/')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400 && !probe(r.url())) problems.push(`${r.status()} ${r.url()}`);
  });
  const jitsi = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith('http://127.0.0.1:')) return request.continue();
    if (url.startsWith(`https://${JITSI}/`)) {
      jitsi.push(url);
      return request.respond({
        status: 200, contentType: 'text/html', body: '<!doctype html><title>Jitsi</title>',
      });
    }
    return request.abort();
  });
  return { page, problems, jitsi };
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(screenshotDir, name), fullPage: true });
}

// Fills the name, submits, and returns the Jitsi URL the browser was sent to.
async function join(page, name) {
  await page.type('#name', name);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('button')]);
  return page.url();
}

function checkJitsiUrl(url, name) {
  const m = new RegExp(`^https://${JITSI.replace(/\./g, '\\.')}/([a-z2-7]{26})\\?jwt=(.+)$`)
    .exec(url);
  assert.ok(m, `not a Jitsi URL with a token: ${url}`);
  const claims = verifiedClaims(m[2]);
  assert.equal(claims.room, m[1]);
  assert.equal(claims.iss, 'roombus-browser');
  assert.equal(claims.sub, JITSI);
  assert.equal(claims.moderator, false);
  assert.deepEqual(claims.context, { user: { name } });
  assert.ok(claims.nbf <= Date.now() / 1000 && Date.now() / 1000 < claims.exp);
}

async function layoutFits(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

const tests = [];
function test(name, body) { tests.push({ name, body }); }

let ctx;

test('the info answer\'s link shows the page; a name submitted there lands in Jitsi with a valid '
  + 'JWT (desktop)', async () => {
  const { page, problems, jitsi } = await newPage(ctx.browser, DESKTOP);
  const response = await page.goto(ctx.openLink, { waitUntil: 'load' });
  assert.equal(response.status(), 200);
  assert.equal(await page.$eval('h1', (e) => e.textContent), 'Quarterly review <Q3> & "plans"');
  assert.equal(await page.$eval('html', (e) => e.lang), 'en');
  assert.equal(await page.$eval('button', (e) => e.textContent), 'Join meeting');
  // The stylesheet applied under the page's CSP: the button has its accent colour.
  assert.equal(await page.$eval('button', (e) => getComputedStyle(e).backgroundColor),
    'rgb(26, 102, 217)');
  assert.ok(await layoutFits(page));
  await shot(page, 'join-page-desktop.png');
  const url = await join(page, 'Jürgen Müller');
  checkJitsiUrl(url, 'Jürgen Müller');
  assert.deepEqual(jitsi, [url]);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the page fits a phone screen', async () => {
  const { page, problems } = await newPage(ctx.browser, PHONE);
  await page.goto(ctx.openLink, { waitUntil: 'load' });
  assert.ok(await layoutFits(page), 'horizontal scrolling on a phone');
  const button = await page.$eval('button', (e) => e.getBoundingClientRect().height);
  assert.ok(button >= 44, `the button is ${button}px high, below a touch target`);
  await shot(page, 'join-page-phone.png');
  assert.deepEqual(problems, []);
  await page.close();
});

test('with Accept-Language: de the page is German and joining works the same', async () => {
  const { page, problems } = await newPage(ctx.browser, DESKTOP, 'de');
  await page.goto(ctx.openLink, { waitUntil: 'load' });
  assert.equal(await page.$eval('html', (e) => e.lang), 'de');
  assert.equal(await page.$eval('button', (e) => e.textContent), 'Meeting beitreten');
  assert.equal(await page.$eval('label', (e) => e.textContent), 'Ihr Name');
  await shot(page, 'join-page-de.png');
  checkJitsiUrl(await join(page, 'Ada'), 'Ada');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a name that is only spaces comes back with an error and no way past it', async () => {
  const { page, jitsi } = await newPage(ctx.browser, PHONE);
  await page.goto(ctx.openLink, { waitUntil: 'load' });
  // `required` alone lets spaces through; the server answers with the page and an error.
  await join(page, '   ');
  assert.match(await page.$eval('[role=alert]', (e) => e.textContent), /Please enter your name/);
  assert.equal(await page.$eval('#name', (e) => e.getAttribute('aria-invalid')), 'true');
  await shot(page, 'join-page-error.png');
  assert.deepEqual(jitsi, []);
  await page.close();
});

test('before the window opens the page says when, and offers no way in', async () => {
  const { page, problems, jitsi } = await newPage(ctx.browser, DESKTOP);
  const response = await page.goto(ctx.laterLink, { waitUntil: 'load' });
  assert.equal(response.status(), 200);
  assert.equal(await page.$eval('.status', (e) => e.textContent), 'Not open yet');
  assert.match(await page.$eval('.note', (e) => e.textContent),
    /^You can join from \w+day, \d+ \w+ \d{4} at \d\d:\d\d CES?T, 30 minutes before the start\.$/);
  assert.equal(await page.$('form'), null);
  assert.equal(await page.$('button'), null);
  await shot(page, 'join-page-too-early.png');
  // Even a hand-made name parameter does not get through.
  await page.goto(`${ctx.laterLink}?name=Eve`, { waitUntil: 'load' });
  assert.equal(await page.$('form'), null);
  assert.deepEqual(jitsi, []);
  assert.deepEqual(problems, []);
  await page.close();
});

async function main() {
  const started = Date.now();
  const roombus = await startRoombus();
  let browser;
  let failed = 0;
  try {
    const server = await call(roombus.base, 'POST', '/admin/v1/servers', {
      bearer: ADMIN_TOKEN,
      json: {
        url: JITSI, name: 'Meet', app_id: 'roombus-browser', app_secret: APP_SECRET,
        members: ['@example.com'],
      },
    });
    const key = server.api_key;
    browser = await puppeteer.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      userDataDir: path.join(scratch, 'profile'),
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        // Belt and braces for "loopback only": no other name resolves.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
    });
    ctx = {
      browser,
      openLink: await roomLink(roombus.base, key, 'Quarterly review <Q3> & "plans"', 10),
      laterLink: await roomLink(roombus.base, key, 'Planning', 3 * 24 * 60),
    };
    for (const t of tests) {
      try {
        await t.body();
        console.log(`ok - ${t.name}`);
      } catch (e) {
        failed += 1;
        console.log(`not ok - ${t.name}\n${e.stack}`);
      }
    }
  } finally {
    if (browser) await browser.close();
    roombus.child.kill('SIGTERM');
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`screenshots in ${screenshotDir}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${tests.length - failed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exitCode = 1;
});
