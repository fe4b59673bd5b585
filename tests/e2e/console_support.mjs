// Pieces of the console's browser test (console_browser.mjs) that are not
// about the page: polling, free ports, the messages it sends, and a next hop
// that defers every recipient (so the queue page has deferred mail with a
// real remote reply). Loopback only.
import fs from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Every check prints one line; any failure makes the run fail at the end.
export const result = { failures: 0 };
export function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) result.failures++;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Polls fn until it returns something truthy; the machine is loaded, so the
// default wait is generous.
export async function waitFor(fn, what, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

// Polls a function in the page from here: Playwright's waitForFunction polls
// inside the page with eval, which the console's CSP (rightly) refuses.
export async function pageWait(page, fn, arg, what, ms = 45000) {
  return waitFor(() => page.evaluate(fn, arg).catch(() => null), what, ms);
}

export function withAttachment({ from, to, subject, id, file = 'report.txt' }) {
  return [`From: <${from}>`, `To: <${to[0]}>`, `Subject: ${subject}`, 'Date: Sat, 28 Nov 2026 12:00:00 +0000',
    `Message-ID: <${id}@e2e.example>`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'See the attached report.', '',
    '--b1', `Content-Type: text/plain; name="${file}"`, `Content-Disposition: attachment; filename="${file}"`, '',
    'Quarterly numbers: all fine.', '', '--b1--', ''].join('\r\n');
}

export function message({ from, to, subject, body, id }) {
  return [`From: <${from}>`, `To: ${to.map((t) => `<${t}>`).join(', ')}`, `Subject: ${subject}`,
    'Date: Sat, 28 Nov 2026 12:00:00 +0000', `Message-ID: <${id}@e2e.example>`, 'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8', '', body, ''].join('\r\n');
}

export const DEFER_REPLY = '451 4.3.0 mailbox busy (e2e next hop)';

// An SMTP next hop that offers no STARTTLS and answers every RCPT with
// DEFER_REPLY: mail to it stays deferred with that reply, and a destination
// whose TLS policy requires encryption fails before MAIL (a TLS failure).
export function deferringNextHop() {
  const server = net.createServer((sock) => {
    sock.setEncoding('latin1');
    let buffered = '';
    sock.write('220 hop.example.org ESMTP e2e\r\n');
    sock.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).replace(/\r$/, '');
        buffered = buffered.slice(nl + 1);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') sock.write('250-hop.example.org\r\n250 8BITMIME\r\n');
        else if (verb === 'RCPT') sock.write(`${DEFER_REPLY}\r\n`);
        else if (verb === 'DATA') sock.write('554 5.5.1 no valid recipients\r\n');
        else if (verb === 'QUIT') sock.end('221 2.0.0 bye\r\n');
        else sock.write('250 2.0.0 ok\r\n');
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function signIn(page, user, password) {
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('header .who');
}

// The outcome in the page's status line once the action has finished.
export async function statusOf(page, prefix) {
  // The prefix names this action, so an earlier action's outcome still on
  // screen (the page re-renders after the click returns) is not taken for it.
  return pageWait(page, (prefix) => {
    const t = document.querySelector('[role=status]')?.textContent ?? '';
    return t.startsWith(prefix) && !t.endsWith('…') ? t : null;
  }, prefix, `the outcome of ${prefix}`).catch(async () => `(still) ${await page.textContent('[role=status]').catch(() => '')}`);
}

export const cellTexts = (page, label, col) =>
  page.$$eval(`[aria-label="${label}"] tbody tr td:nth-child(${col})`, (tds) => tds.map((t) => t.textContent));

// Runs axe-core in the page (evaluated over the DevTools protocol, so the
// page's CSP stays as served) and checks for serious or critical violations.
export async function accessible(page, name) {
  const found = await (async () => {
    if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
    return page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      const ran = [...r.passes, ...r.incomplete, ...r.violations].map((x) => x.id);
      // Every page has text: its contrast must actually have been checked.
      const missing = ran.includes('color-contrast') ? [] : ['colour contrast was not checked'];
      return [...missing, ...r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`)];
    });
  })().catch((e) => [`axe did not run: ${e.message}`]);
  check(found.length === 0, `axe-core: no serious accessibility violation on the ${name} page ${found.join(' | ')}`);
}
