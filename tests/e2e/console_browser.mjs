// The admin console in a real browser (Debian's Chromium driven by
// playwright-core) against a real `mailmoat serve` on loopback. Data comes
// from real mail sent through the gateway with swaks: delivered messages, one
// whose subject is <script>alert(1)</script>, a rejected one, two quarantined
// by a transport rule, and one with a blocked link that the browser opens.
// Then: sign in; the dashboard totals match what was sent; search the trace
// and open a timeline; release a quarantined message and find it in the
// Maildir and the trace; the click shows in the URL trace; a viewer cannot
// release; the script subject is text; the policies page tests a message.
// Screenshots: <out>/console-*.png.
// Usage: node console_browser.mjs --binary PATH/mailmoat --out DIR
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const binary = arg('--binary');
const outDir = arg('--out');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

function withAttachment({ from, to, subject, id }) {
  return [`From: <${from}>`, `To: <${to[0]}>`, `Subject: ${subject}`, 'Date: Sat, 28 Nov 2026 12:00:00 +0000',
    `Message-ID: <${id}@e2e.example>`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'See the attached report.', '',
    '--b1', 'Content-Type: text/plain; name="report.txt"', 'Content-Disposition: attachment; filename="report.txt"', '',
    'Quarterly numbers: all fine.', '', '--b1--', ''].join('\r\n');
}

function message({ from, to, subject, body, id }) {
  return [`From: <${from}>`, `To: ${to.map((t) => `<${t}>`).join(', ')}`, `Subject: ${subject}`,
    'Date: Sat, 28 Nov 2026 12:00:00 +0000', `Message-ID: <${id}@e2e.example>`, 'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8', '', body, ''].join('\r\n');
}

// Polls a function in the page from here: Playwright's waitForFunction polls
// inside the page with eval, which the console's CSP (rightly) refuses.
async function pageWait(page, fn, arg, what, ms = 15000) {
  return waitFor(() => page.evaluate(fn, arg).catch(() => null), what, ms);
}

const PASSWORDS = { alice: 'alice console pw 1', victor: 'victor console pw 2' };

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailmoat-console-'));
  const httpPort = await freePort();
  const base = `http://127.0.0.1:${httpPort}`;
  fs.writeFileSync(path.join(tmp, 'block.txt'), 'blocked.test\n');
  fs.writeFileSync(path.join(tmp, 'zone.db'), '; no records\n');
  fs.writeFileSync(path.join(tmp, 'rules.toml'), [
    '[[rule]]', 'name = "Hold quarantine-me"', 'priority = 10',
    'conditions = [{ subject_or_body = { words = ["quarantine me"] } }]', 'actions = [{ quarantine = true }]', '',
    '[[rule]]', 'name = "Refuse bad.example"', 'priority = 20',
    'conditions = [{ sender_domain = "bad.example" }]', 'actions = [{ reject = true }]', '',
  ].join('\n'));
  fs.writeFileSync(path.join(tmp, 'mailmoat.toml'), [
    '[links]', 'enabled = true', `block_lists = ["${tmp}/block.txt"]`, '',
    '[rules]', `file = "${tmp}/rules.toml"`, '',
  ].join('\n'));
  const common = ['--set', `server.data_dir=${tmp}/var`, '--set', `http.listen=127.0.0.1:${httpPort}`];
  const gw = spawn(binary, ['serve', '-c', `${tmp}/mailmoat.toml`, ...common,
    '--set', 'smtp.listener.0.address=127.0.0.1:0', '--set', `dns.zone_files=["${tmp}/zone.db"]`,
    '--ready-file', `${tmp}/ready.json`], { stdio: ['ignore', 'ignore', fs.openSync(`${tmp}/gateway.log`, 'w')] });
  let browser;
  try {
    const ready = JSON.parse(await waitFor(() => fs.existsSync(`${tmp}/ready.json`) && fs.readFileSync(`${tmp}/ready.json`, 'utf8'), 'the gateway'));
    const [smtpHost, smtpPort] = ready.smtp.inbound.split(':');
    const adminToken = fs.readFileSync(`${tmp}/var/admin.token`, 'utf8').trim();
    const apiGet = async (p) => (await fetch(base + p, { headers: { Authorization: `Bearer ${adminToken}` } })).json();

    for (const [name, role] of [['alice', 'admin'], ['victor', 'viewer']])
      execFileSync(binary, ['admin', 'user', 'create', '--name', name, '--role', role, ...common], { input: `${PASSWORDS[name]}\n` });

    const send = (m, expectFail = false) => {
      fs.writeFileSync(`${tmp}/msg.eml`, m.attach ? withAttachment(m) : message(m));
      try {
        execFileSync('swaks', ['--server', smtpHost, '--port', smtpPort, '--from', m.from, '--to', m.to.join(','),
          '--helo', 'client.test', '--data', `@${tmp}/msg.eml`, '--silent', '2']);
        return !expectFail;
      } catch {
        return expectFail;
      }
    };
    const XSS = '<script>alert(1)</script>';
    check(send({ from: 'news@example.com', to: ['u@localhost'], subject: 'Weekly news', body: '<p>hello</p>', id: 'm1' }), 'sent m1');
    check(send({ from: 'news@example.com', to: ['u@localhost'], subject: XSS, body: '<p>xss</p>', id: 'm2' }), 'sent m2');
    check(send({ from: 'news@example.com', to: ['u@localhost'], subject: 'A link', id: 'm3',
      body: '<p><a href="http://blocked.test/x">blocked</a></p>' }), 'sent m3');
    check(send({ from: 'reports@example.com', to: ['u@localhost'], subject: 'Report attached', id: 'm4', attach: true }), 'sent m4');
    check(send({ from: 'boss@partner.example', to: ['q1@localhost', 'q2@localhost'], subject: 'Please quarantine me', body: '<p>held</p>', id: 'q1' }), 'sent q1');
    check(send({ from: 'boss@partner.example', to: ['q3@localhost'], subject: 'Also quarantine me', body: '<p>held</p>', id: 'q2' }), 'sent q2');
    check(send({ from: 'spammer@bad.example', to: ['u@localhost'], subject: 'Buy now', body: '<p>spam</p>', id: 's1' }, true),
      'the transport rule rejects bad.example at SMTP time');

    // What the gateway delivered, and the rewritten link in m3.
    const inbox = `${tmp}/var/mailboxes/u@localhost/new`;
    await waitFor(() => fs.existsSync(inbox) && fs.readdirSync(inbox).length === 4, 'four messages for u@localhost');
    const mails = fs.readdirSync(inbox).map((f) => fs.readFileSync(path.join(inbox, f), 'utf8'));
    const link = mails.map((m) => m.match(/href="([^"]*\/v1\/l\?[^"]*)"/)).find(Boolean)[1].replaceAll('&amp;', '&');
    const expected = { 'inbound/delivered': 4, 'inbound/quarantined': 3, 'inbound/rejected': 1 };
    await waitFor(async () => {
      const s = await apiGet(`/api/v1/stats?since=${Date.now() * 1000 - 3.6e9}&until=${Date.now() * 1000 + 3.6e9}`);
      const sum = {};
      for (const c of s.counts) sum[`${c.direction}/${c.status}`] = (sum[`${c.direction}/${c.status}`] ?? 0) + c.count;
      return Object.entries(expected).every(([k, v]) => sum[k] === v) ? sum : null;
    }, 'the trace to record every message').catch((e) => check(false, e.message));

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    let dialogs = 0;
    const consoleErrors = [];
    page.on('dialog', (d) => { dialogs++; d.dismiss(); });
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    const shot = async (p, name) => {
      const file = path.join(outDir, `console-${name}.png`);
      await p.screenshot({ path: file, fullPage: true });
      check(fs.statSync(file).size > 1000, `screenshot ${file}`);
    };

    // Sign-in.
    const first = await page.goto(`${base}/console/`);
    const csp = first.headers()['content-security-policy'] ?? '';
    check(csp.startsWith("default-src 'self'"), `the console is served with CSP ${csp}`);
    await page.waitForSelector('form[aria-label="Sign in"]');
    await shot(page, 'signin');
    await page.fill('input[name=user]', 'alice');
    await page.fill('input[name=password]', 'wrong password here');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]');
    check((await page.textContent('[role=alert]')).includes('wrong user name or password'), 'a wrong password is refused');
    await page.fill('input[name=password]', PASSWORDS.alice);
    await page.click('button[type=submit]');
    await page.waitForSelector('header .who');
    check((await page.textContent('header .who')).includes('alice (admin)'), 'signed in as alice (admin)');
    const cookie = (await context.cookies()).find((c) => c.name === 'mailmoat_session');
    check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');

    // Dashboard totals against what was sent.
    await page.waitForSelector('.chart canvas');
    await pageWait(page, () => document.querySelector('[aria-label=Totals] tbody')?.textContent.includes('inbound/'), null, 'the totals');
    const totalsRows = await page.$$eval('[aria-label=Totals] tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    const shown = Object.fromEntries(totalsRows);
    for (const [k, v] of Object.entries(expected)) check(shown[k] === String(v), `dashboard shows ${k} = ${v} (shows ${shown[k]})`);
    const spf = await pageWait(page, () => document.querySelector('[aria-label="Authentication pass rates"] tbody tr td:nth-child(2)')?.textContent, null, 'pass rates').catch(() => '');
    check(spf === '0% (0/7)', `SPF pass rate over the 7 inbound messages (none has SPF; shows ${spf})`);
    await shot(page, 'dashboard');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'dashboard-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    // Trace: search, the script subject as text, a timeline.
    await page.click('nav >> text=Message trace');
    await page.fill('input[name=recipient]', 'u@localhost');
    await page.click('form[aria-label="Search the trace"] button[type=submit]');
    await pageWait(page, () => document.querySelectorAll('[aria-label="Trace results"] tbody tr a').length >= 3, null, 'trace results');
    const subjects = await page.$$eval('[aria-label="Trace results"] tbody tr td:nth-child(4)', (tds) => tds.map((t) => t.textContent));
    check(subjects.includes(XSS), 'the <script> subject is shown as text in the trace');
    check(await page.evaluate(() => document.querySelectorAll('main script').length === 0), 'no script element came from message data');
    await shot(page, 'trace');
    await page.click(`[aria-label="Trace results"] a:text-is("Weekly news")`);
    await page.waitForSelector('ol.timeline li');
    const timeline = await page.textContent('ol.timeline');
    check(timeline.includes('received') && timeline.includes('delivered'), 'the timeline shows receipt and delivery');
    check((await page.textContent('h1')) === 'Weekly news', 'the detail view names the message');
    check((await page.textContent('main')).includes('spf=none'), 'the detail view shows the authentication results');
    await shot(page, 'trace-detail');

    // Quarantine: release the first item to all its recipients.
    await page.click('nav >> text=Quarantine');
    await pageWait(page, () => document.querySelectorAll('[aria-label="Quarantined messages"] tbody tr button').length === 2, null, 'two held items');
    // The date filter: nothing was quarantined after 2030.
    await page.fill('form[aria-label="Filter the quarantine"] input[name=since]', '2030-01-01T00:00');
    await page.click('form[aria-label="Filter the quarantine"] button[type=submit]');
    const none = await pageWait(page, () => document.querySelector('[aria-label="Quarantined messages"] tbody')?.textContent === 'nothing', null, 'an empty filter result').catch(() => false);
    check(none, 'a date filter after the messages shows nothing');
    await page.fill('form[aria-label="Filter the quarantine"] input[name=since]', '');
    await page.fill('form[aria-label="Filter the quarantine"] input[name=sender]', 'boss@*');
    await page.click('form[aria-label="Filter the quarantine"] button[type=submit]');
    await pageWait(page, () => document.querySelectorAll('[aria-label="Quarantined messages"] tbody tr button').length === 2, null, 'the sender filter');
    const row = page.locator('[aria-label="Quarantined messages"] tbody tr', { hasText: 'Please quarantine me' });
    await row.locator('button:text-is("Open")').click();
    await page.waitForSelector('article.card');
    await page.click('article.card button:text-is("Preview")');
    await page.waitForSelector('article.card .preview :is(.note, h3)');
    const previewText = await page.textContent('article.card .preview');
    check(previewText.includes('not available') || previewText.includes('Headers'), `the preview shows the message or says it is not available`);
    await shot(page, 'quarantine');
    await page.click('article.card button:text-is("Release to all")');
    const released = await pageWait(page, () => {
      const t = document.querySelector('[role=status]')?.textContent ?? '';
      return t.endsWith('…') ? null : t;
    }, null, 'the release outcome').catch(() => '');
    check(released === 'Release: done', `release reported done (${released})`);
    for (const r of ['q1@localhost', 'q2@localhost']) {
      const dir = `${tmp}/var/mailboxes/${r}/new`;
      const got = await waitFor(() => fs.existsSync(dir) && fs.readdirSync(dir)[0], `released mail in ${r}'s Maildir`).catch(() => null);
      check(!!got && fs.readFileSync(path.join(dir, got), 'utf8').includes('X-Mailmoat-Released:'),
        `the released message is in ${r}'s Maildir with its release header`);
    }
    const traced = await waitFor(async () => {
      const t = await apiGet('/api/v1/trace?recipient=q1@localhost');
      const delivered = t.records?.find((r) => r.status === 'delivered');
      const held = t.records?.find((r) => r.trace_id !== delivered?.trace_id);
      if (!delivered || !held) return null;
      const d = await apiGet(`/api/v1/trace/${held.trace_id}`);
      return JSON.stringify(d.events).includes('released') ? d : null;
    }, 'the release in the trace').catch(() => null);
    check(!!traced, 'the trace shows the release on the held message and the released copy delivered');

    // URL trace: open the rewritten blocked link, then find the click.
    const other = await context.newPage();
    await other.goto(link);
    await other.close();
    await page.click('nav >> text=URL trace');
    await page.fill('input[name=url]', 'blocked.test');
    await page.click('form[aria-label="Filter clicks"] button[type=submit]');
    const clickRow = await pageWait(page, () => {
      const rows = [...document.querySelectorAll('[aria-label=Clicks] tbody tr')].map((r) => r.textContent);
      return rows.find((t) => t.includes('http://blocked.test/x') && t.includes('blocked'));
    }, null, 'the click').catch(() => null);
    check(!!clickRow, 'the click on the blocked link is in the URL trace');
    await shot(page, 'clicks');

    await page.click('nav >> text=Queue');
    await page.waitForSelector('h2:text("TLS failures by destination")');
    await shot(page, 'queue');

    // Attachments: the report.txt of m4 with its verdict and types.
    await page.click('nav >> text=Attachments');
    const att = await pageWait(page, () => [...document.querySelectorAll('[aria-label=Attachments] tbody tr')].map((r) => r.textContent).find((t) => t.includes('report.txt')), null, 'the attachment row').catch(() => '');
    check(att.includes('text/plain'), `the attachment is listed with its type and verdict (${att})`);
    await shot(page, 'attachments');

    // Policies: test a message against the rules (the records work's route; or "not available").
    await page.click('nav >> text=Policies');
    const policies = await pageWait(page, () => {
      const t = document.querySelector('main')?.textContent ?? '';
      return t.includes('Hold quarantine-me') ? t : null;
    }, null, 'the active rules').catch(() => '');
    check(policies.includes('Hold quarantine-me') && /\[links\][^\[]*enabled = true/.test(policies),
      'the policies page shows the active rules file and the Safe Links configuration');
    for (const s of await page.$$('main details summary')) await s.click();
    fs.writeFileSync(`${tmp}/test.eml`, message({ from: 'boss@partner.example', to: ['u@localhost'], subject: 'Please quarantine me', body: 'x', id: 't1' }));
    await page.setInputFiles('input[name=eml]', `${tmp}/test.eml`);
    await page.fill('input[name=rcpt]', 'u@localhost');
    await page.click('form[aria-label="Test a message"] button[type=submit]');
    const tested = await pageWait(page, () => document.querySelector('[aria-label="Test result"], [role=alert]')?.textContent, null, 'the rules test').catch(() => '');
    check(tested.includes('Hold quarantine-me') || tested.includes('not available on this gateway'),
      `the rules test names the matching rule or says the route is not available (${tested.slice(0, 80)})`);
    await page.click('button:text-is("Reload rules")');
    const reloaded = await pageWait(page, () => document.querySelector('[role=status]')?.textContent, null, 'the reload').catch(() => '');
    check(/Reloaded 2 rule|not available/.test(reloaded), `reload reports its outcome (${reloaded})`);
    await shot(page, 'policies');

    await page.click('header button:text-is("Sign out")');
    await page.waitForSelector('form[aria-label="Sign in"]');
    check(!(await context.cookies()).some((c) => c.name === 'mailmoat_session' && c.value), 'signing out clears the cookie');

    // A viewer sees the quarantine but cannot release.
    await page.fill('input[name=user]', 'victor');
    await page.fill('input[name=password]', PASSWORDS.victor);
    await page.click('button[type=submit]');
    await page.waitForSelector('header .who');
    await page.click('nav >> text=Quarantine');
    await pageWait(page, () => document.querySelectorAll('[aria-label="Quarantined messages"] tbody tr button').length >= 1, null, 'a held item');
    await page.locator('[aria-label="Quarantined messages"] tbody tr button:text-is("Open")').first().click();
    await page.waitForSelector('article.card');
    check((await page.$('article.card button:text-is("Release to all")')) === null, 'a viewer is offered no release');
    const forced = await page.evaluate(async () => {
      const s = await (await fetch('/api/v1/session')).json();
      const items = (await (await fetch('/api/v1/quarantine?state=held')).json()).items;
      const r = await fetch(`/api/v1/quarantine/${items[0].id}/release`, {
        method: 'POST', headers: { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' }, body: '{}' });
      return r.status;
    });
    check(forced === 403, `the API refuses a viewer's release (${forced})`);
    await shot(page, 'quarantine-viewer');

    check(dialogs === 0, 'no alert() ran anywhere');
    check(consoleErrors.every((e) => !/Content Security Policy/i.test(e)), `no CSP violations (${consoleErrors.join(' | ')})`);
  } finally {
    if (browser) await browser.close();
    gw.kill('SIGTERM');
    await new Promise((r) => gw.once('exit', r));
    if (failures) console.log(fs.readFileSync(`${tmp}/gateway.log`, 'utf8'));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(failures ? 1 : 0), (e) => {
  console.error(e);
  process.exit(1);
});
