// Safe Links in a real browser (Debian's Chromium driven by playwright-core):
// mail comes in over SMTP (swaks), its rewritten links are opened the way a
// user would: an allowed link lands on a local test page; a blocked one shows
// the warning page (screenshot kept under the build directory); "continue
// anyway" is offered and works only where the policy allows click-through; the
// clicks appear in `mailmoat links trace`.
// Usage: node links_browser.mjs --binary PATH/mailmoat --out DIR
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
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
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function message(to, site) {
  return [
    'From: News <news@example.com>', `To: <${to}>`, 'Subject: Links for the browser',
    'Date: Sat, 28 Nov 2026 12:00:00 +0000', `Message-ID: <${to}-e2e@example.com>`, 'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8', '',
    `<p><a id="a1" href="${site}/landing">landing</a></p>`,
    '<p><a id="a2" href="http://blocked.test/x">blocked</a></p>',
    `<p><a id="a3" href="${site}/phish">phish</a></p>`, '',
  ].join('\r\n');
}

function linksOf(mail) {
  const out = [];
  for (const m of mail.matchAll(/href="([^"]*\/v1\/l\?[^"]*)"/g)) out.push(m[1].replaceAll('&amp;', '&'));
  return out;
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailmoat-e2e-'));
  const sitePort = await freePort();
  const httpPort = await freePort();
  const site = `http://localhost:${sitePort}`;
  const pages = { '/landing': 'Landing page', '/phish': 'Phish test page' };
  const server = http.createServer((req, res) => {
    const title = pages[req.url] ?? 'Not found';
    res.writeHead(pages[req.url] ? 200 : 404, { 'Content-Type': 'text/html' });
    res.end(`<!DOCTYPE html><title>${title}</title><h1 id="landed">${title}</h1>`);
  }).listen(sitePort, '127.0.0.1');

  fs.writeFileSync(path.join(tmp, 'block.txt'), `# e2e block list\nblocked.test\n${site}/phish\n`);
  fs.writeFileSync(path.join(tmp, 'zone.db'), '; no records\n');
  fs.writeFileSync(path.join(tmp, 'mailmoat.toml'), [
    '[links]', 'enabled = true', `block_lists = ["${tmp}/block.txt"]`, 'organization = "Example Corp"',
    'notice = "Questions? Call the help desk at 555-0100."', '',
    '[[links.policy]]', 'name = "click-through"', 'priority = 10', 'recipients = ["open@localhost"]',
    'allow_click_through = true', '',
  ].join('\n'));
  const common = ['--set', `server.data_dir=${tmp}/var`, '--set', `http.listen=127.0.0.1:${httpPort}`];
  const gw = spawn(binary, ['serve', '-c', `${tmp}/mailmoat.toml`, ...common,
    '--set', 'smtp.listener.0.address=127.0.0.1:0', '--set', `dns.zone_files=["${tmp}/zone.db"]`,
    '--ready-file', `${tmp}/ready.json`], { stdio: ['ignore', 'ignore', fs.openSync(`${tmp}/gateway.log`, 'w')] });
  let browser;
  try {
    const ready = JSON.parse(await waitFor(() => fs.existsSync(`${tmp}/ready.json`) && fs.readFileSync(`${tmp}/ready.json`, 'utf8'), 'the gateway'));
    const [smtpHost, smtpPort] = ready.smtp.inbound.split(':');
    const links = {};
    for (const to of ['u@localhost', 'open@localhost']) {
      fs.writeFileSync(`${tmp}/msg.eml`, message(to, site));
      execFileSync('swaks', ['--server', smtpHost, '--port', smtpPort, '--from', 'news@example.com', '--to', to,
        '--helo', 'client.test', '--data', `@${tmp}/msg.eml`, '--silent', '2']);
      const dir = `${tmp}/var/mailboxes/${to}/new`;
      const file = await waitFor(() => fs.existsSync(dir) && fs.readdirSync(dir)[0], `mail for ${to}`);
      links[to] = linksOf(fs.readFileSync(path.join(dir, file), 'utf8'));
      check(links[to].length === 3, `three links rewritten for ${to}`);
    }

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();

    await page.goto(links['u@localhost'][0]);
    check(page.url() === `${site}/landing` && (await page.title()) === 'Landing page',
      `an allowed link lands on the local test page (${page.url()})`);

    await page.goto(links['u@localhost'][1]);
    const body = await page.textContent('body');
    check(body.includes('This website is classified as malicious'), 'a blocked link shows the warning page');
    check((await page.textContent('#destination')) === 'http://blocked.test/x', 'the destination is shown as text');
    check(body.includes('Example Corp') && body.includes('Call the help desk'), 'branding and custom text are shown');
    check((await page.$('#continue')) === null, 'no "continue anyway" without click-through');
    check((await page.$$('script')).length === 0, 'the warning page has no script');
    const shot = path.join(outDir, 'links-warning-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    check(fs.statSync(shot).size > 1000, `screenshot saved: ${shot}`);

    await page.goto(links['u@localhost'][2]);
    check((await page.$('#continue')) === null, 'a policy without click-through offers no way on');
    const sneak = await page.goto(`http://127.0.0.1:${httpPort}/v1/continue?${links['u@localhost'][2].split('?')[1]}`);
    check(sneak.status() === 403 && page.url().startsWith(`http://127.0.0.1:${httpPort}/`),
      'the continue URL is refused without click-through');

    await page.goto(links['open@localhost'][2]);
    const cont = await page.$('#continue');
    check(cont !== null, '"continue anyway" is offered when the policy allows click-through');
    if (cont) {
      await Promise.all([page.waitForURL(`${site}/phish`), cont.click()]);
      check((await page.title()) === 'Phish test page', 'continuing lands on the destination');
    }

    // The URL trace, through the CLI and the admin API.
    let clicks = [];
    await waitFor(() => {
      const out = execFileSync(binary, ['links', '--json', 'trace', ...common], { encoding: 'utf8' });
      clicks = JSON.parse(out).clicks;
      return clicks.length >= 5;
    }, 'five clicks in the trace', 10000).catch(() => {});
    const counts = {};
    for (const c of clicks) counts[c.action] = (counts[c.action] ?? 0) + 1;
    check(counts.allowed === 1 && counts.blocked === 3 && counts.clicked_through === 1,
      `the clicks are in the URL trace: ${JSON.stringify(counts)}`);
    check(clicks.some((c) => c.action === 'clicked_through' && c.recipient === 'open@localhost' && c.url === `${site}/phish`),
      'the click-through names its recipient and URL');
    check(clicks.every((c) => c.user_agent.includes('Chrome')), 'clicks carry the browser user agent');
  } finally {
    if (browser) await browser.close();
    gw.kill('SIGTERM');
    await new Promise((r) => gw.once('exit', r));
    server.close();
    if (failures) console.log(fs.readFileSync(`${tmp}/gateway.log`, 'utf8'));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(failures ? 1 : 0), (e) => {
  console.error(e);
  process.exit(1);
});
