// The admin console in a real browser (Debian's Chromium driven by
// playwright-core) against a real `mailmoat serve` on loopback. Data comes
// from real mail sent through the gateway with swaks: delivered messages, one
// whose subject is <script>alert(1)</script>, a rejected one, some quarantined
// by a transport rule, a newsletter from a DNSBL-listed client (127.0.0.2,
// SPF pass) quarantined as spam, a batch to twelve recipients (trace paging),
// one with a blocked link that the browser opens, and two held in the queue by
// a next hop that defers (one of them a TLS failure). Then, in the page: sign
// in; the dashboard totals match what was sent; trace search by recipient,
// subject words, direction and client IP, paging, a timeline; quarantine
// filters, preview (text and attachments), release (found in the Maildir and
// the trace), allow sender (the next newsletter is delivered), false positive
// (listed), bulk release and delete; the click in the URL trace; the queue's
// hold / release / retry / "retry TLS failures now" read back from the API;
// rules test, reload and a broken rules file's FILE:LINE error; a viewer
// cannot release; the script subject is text; axe-core finds no serious
// accessibility violation on any page; no page scrolls sideways at 390 px.
// The quarantine steps are in console_quarantine.mjs, polling, messages, the
// deferring next hop and axe-core in console_support.mjs.
// Screenshots: <out>/console-*.png.
// Usage: node console_browser.mjs --binary PATH/mailmoat --out DIR
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accessible, cellTexts, check, DEFER_REPLY, deferringNextHop, freePort, message, pageWait, result, signIn, statusOf, waitFor,
  withAttachment } from './console_support.mjs';
import { heldCount, openItem, Q, quarantineBulk, quarantineNewsletter, quarantineRelease } from './console_quarantine.mjs';

const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const binary = arg('--binary');
const outDir = arg('--out');

const PASSWORDS = { alice: 'alice console pw 1', victor: 'victor console pw 2' };
const XSS = '<script>alert(1)</script>';
const RULES = [
  '[[rule]]', 'name = "Hold quarantine-me"', 'priority = 10',
  'conditions = [{ subject_or_body = { words = ["quarantine me"] } }]', 'actions = [{ quarantine = true }]', '',
  '[[rule]]', 'name = "Refuse bad.example"', 'priority = 20',
  'conditions = [{ sender_domain = "bad.example" }]', 'actions = [{ reject = true }]', '',
].join('\n');
// SPF for the newsletter's domain and a DNS block list listing 127.0.0.2, for the zone-file resolver.
const ZONE = ['$ORIGIN news.example.net.', '$TTL 300', '@ IN TXT "v=spf1 ip4:127.0.0.0/8 -all"',
  '$ORIGIN bl.example.org.', '2.0.0.127 IN A 127.0.0.2', ''].join('\n');

// The gateway's configuration: Safe Links with a block list, the rules file,
// the DNSBL, and two accepted domains relayed to the deferring next hop, one
// of them with TLS required.
function writeConfig(tmp, hopPort) {
  fs.writeFileSync(path.join(tmp, 'block.txt'), 'blocked.test\n');
  fs.writeFileSync(path.join(tmp, 'zone.db'), ZONE);
  fs.writeFileSync(path.join(tmp, 'rules.toml'), RULES);
  fs.writeFileSync(path.join(tmp, 'mailmoat.toml'), [
    '[smtp]', 'accepted_domains = ["localhost", "slow.example.org", "tls.example.org"]', 'filter_budget_ms = 60000', '',
    '[connection]', 'dnsbl_zones = ["bl.example.org"]', '',
    '[queue]', 'retry_base_seconds = 3600', 'retry_max_seconds = 3600', '',
    // Attachment analysis decides at end of data and within its budget even
    // on a loaded machine (an ASan worker can take seconds for a text file):
    // over budget, the default policy blocks, and a message held for analysis
    // takes another path (docs/attachments.md).
    '[attachments]', 'fast_path_ms = 60000', 'banned_extensions = ["exe"]', '',
    '[[attachments.policy]]', 'name = "default"', 'priority = 100', 'recipient_domains = ["*"]', 'action = "block"', 'budget_ms = 60000', '',
    '[links]', 'enabled = true', `block_lists = ["${tmp}/block.txt"]`, '',
    '[rules]', `file = "${tmp}/rules.toml"`, '',
    '[[route]]', 'domains = ["localhost"]', 'transport = "maildir"', '',
    '[[route]]', 'domains = ["slow.example.org", "tls.example.org"]', 'transport = "relay"', `next_hop = "[127.0.0.1]:${hopPort}"`, '',
    '[[tls.policy]]', 'domains = ["tls.example.org"]', 'level = "encrypt"', '',
  ].join('\n'));
}

// Everything the test sends before the browser opens; returns how many
// messages (not recipients) went in, for the pass-rate check.
function sendAll(send) {
  const batch = Array.from({ length: 12 }, (_, i) => `p${String(i + 1).padStart(2, '0')}@localhost`);
  const sent = [
    [{ from: 'news@example.com', to: ['u@localhost'], subject: 'Weekly news', body: '<p>hello</p>', id: 'm1' }],
    [{ from: 'news@example.com', to: ['u@localhost'], subject: XSS, body: '<p>xss</p>', id: 'm2' }],
    [{ from: 'news@example.com', to: ['u@localhost'], subject: 'A link', id: 'm3', body: '<p><a href="http://blocked.test/x">blocked</a></p>' }],
    [{ from: 'reports@example.com', to: ['u@localhost'], subject: 'Report attached', id: 'm4', attach: true }],
    [{ from: 'boss@partner.example', to: ['q1@localhost', 'q2@localhost'], subject: 'Please quarantine me', body: '<p>held</p>', id: 'q1' }],
    [{ from: 'boss@partner.example', to: ['q3@localhost'], subject: 'Also quarantine me', body: '<p>held</p>', id: 'q2' }],
    [{ from: 'boss@partner.example', to: ['b1@localhost'], subject: 'Bulk one quarantine me', body: '<p>held</p>', id: 'q3' }],
    [{ from: 'boss@partner.example', to: ['b2@localhost'], subject: 'Bulk two quarantine me', body: '<p>held</p>', id: 'q4' }],
    [{ from: 'boss@partner.example', to: ['v@localhost'], subject: 'Viewer quarantine me', body: '<p>held</p>', id: 'q5' }],
    [{ from: 'news@news.example.net', to: ['nl@localhost'], subject: 'Newsletter one', id: 'n1', attach: true, via: '127.0.0.2' }],
    [{ from: 'billing@example.com', to: ['m@localhost'], subject: 'Invoice attached', id: 'x1', attach: true, file: 'invoice.exe' }],
    [{ from: 'batch@example.com', to: batch, subject: 'Paging batch', body: '<p>one of many</p>', id: 'p1' }],
    [{ from: 'ops@example.com', to: ['x@slow.example.org'], subject: 'Slow hop', body: '<p>later</p>', id: 'd1' }],
    [{ from: 'ops@example.com', to: ['x@tls.example.org'], subject: 'TLS hop', body: '<p>later</p>', id: 'd2' }],
    [{ from: 'spammer@bad.example', to: ['u@localhost'], subject: 'Buy now', body: '<p>spam</p>', id: 's1' }, true],
  ];
  for (const [m, refused] of sent)
    check(send(m, refused), refused ? `the transport rule refuses ${m.id} at SMTP time` : `sent ${m.id}`);
  return sent.length;
}

async function dashboardPage(t) {
  const { page, shot, expected, messages } = t;
  await page.waitForSelector('.chart canvas');
  await pageWait(page, () => document.querySelector('[aria-label=Totals] tbody')?.textContent.includes('inbound/'), null, 'the totals');
  const totalsRows = await page.$$eval('[aria-label=Totals] tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  const shown = Object.fromEntries(totalsRows);
  for (const [k, v] of Object.entries(expected)) check(shown[k] === String(v), `dashboard shows ${k} = ${v} (shows ${shown[k]})`);
  const spf = await pageWait(page, () => document.querySelector('[aria-label="Authentication pass rates"] tbody tr td:nth-child(2)')?.textContent, null, 'pass rates').catch(() => '');
  const want = `${Math.round(100 / messages)}% (1/${messages})`;
  check(spf === want, `SPF pass rate: only the newsletter of the ${messages} inbound messages has SPF (want ${want}, shows ${spf})`);
  const reasons = Object.fromEntries(await pageWait(page, () => {
    const rows = [...document.querySelectorAll('[aria-label="Quarantined by reason"] tbody tr')].map((r) => [...r.cells].map((c) => c.textContent));
    return rows.length >= 3 ? rows : null;
  }, null, 'quarantine by reason').catch(() => []));
  check(reasons.rule === '5' && reasons.spam === '1' && reasons.malware === '1',
    `quarantined by reason: 5 by rule, the newsletter as spam, the .exe as malware (${JSON.stringify(reasons)})`);
  await shot(page, 'dashboard');
  await accessible(page, 'dashboard');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'dashboard-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function searchTrace(page, fields) {
  const form = 'form[aria-label="Search the trace"]';
  for (const name of ['sender', 'recipient', 'subject', 'message_id', 'client_ip']) await page.fill(`${form} input[name=${name}]`, fields[name] ?? '');
  for (const name of ['direction', 'status']) await page.selectOption(`${form} select[name=${name}]`, fields[name] ?? '');
  await page.selectOption(`${form} select[name=limit]`, fields.limit ?? '25');
  await page.click(`${form} button[type=submit]`);
}

// Rows of the result table once it shows `n` rows (or "nothing" for 0).
async function traceRows(page, n, what) {
  await pageWait(page, (n) => {
    const rows = document.querySelectorAll('[aria-label="Trace results"] tbody tr');
    return n === 0 ? rows.length === 1 && rows[0].textContent === 'nothing' : rows.length === n && !!rows[0].querySelector('a');
  }, n, what).catch(() => null);
  return page.$$eval('[aria-label="Trace results"] tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
}

async function tracePage(t) {
  const { page, shot, apiGet } = t;
  await page.click('nav >> text=Message trace');
  await searchTrace(page, { recipient: 'u@localhost' });
  // The page first lists the newest records unfiltered: wait for the search's own rows.
  await pageWait(page, () => {
    const rows = [...document.querySelectorAll('[aria-label="Trace results"] tbody tr')];
    return rows.length >= 4 && rows.every((r) => r.cells[2]?.textContent === 'u@localhost');
  }, null, 'trace results for u@localhost').catch(() => null);
  const subjects = await cellTexts(page, 'Trace results', 4);
  check(subjects.includes(XSS), 'the <script> subject is shown as text in the trace');
  check(await page.evaluate(() => document.querySelectorAll('main script').length === 0), 'no script element came from message data');
  await shot(page, 'trace');
  await accessible(page, 'trace');

  // Paging: twelve records with the subject words "Paging batch", ten per page.
  await searchTrace(page, { subject: 'Paging batch', limit: '10' });
  const first = await traceRows(page, 10, 'page 1 of the batch');
  const api1 = await apiGet('/api/v1/trace?subject=Paging%20batch&limit=10');
  const api2 = await apiGet(`/api/v1/trace?subject=Paging%20batch&limit=10&cursor=${encodeURIComponent(api1.next_cursor)}`);
  check(JSON.stringify(first.map((r) => r[2])) === JSON.stringify(api1.records.map((r) => r.recipient)),
    `page 1 shows the API's first ten records (${first.map((r) => r[2]).join(' ')})`);
  check(first.every((r) => r[3] === 'Paging batch'), 'the subject-words search shows only the batch');
  await page.click('button:text-is("Next page")');
  const second = await traceRows(page, 2, 'page 2 of the batch');
  check(JSON.stringify(second.map((r) => r[2])) === JSON.stringify(api2.records.map((r) => r.recipient)) && second.length === 2,
    `"Next page" shows the remaining two records (${second.map((r) => r[2]).join(' ')})`);
  const all = new Set([...first, ...second].map((r) => r[2]));
  check(all.size === 12 && [...all].every((r) => /^p\d\d@localhost$/.test(r)), 'the two pages hold the twelve batch recipients once each');
  check((await page.textContent('[aria-live=polite]')) === 'Page 2', 'the page number says 2');
  await shot(page, 'trace-page2');
  await page.click('button:text-is("Previous page")');
  const back = await traceRows(page, 10, 'page 1 again');
  check(JSON.stringify(back) === JSON.stringify(first), '"Previous page" shows page 1 again');

  // Direction and client IP.
  await searchTrace(page, { subject: 'Paging batch', direction: 'outbound' });
  check((await traceRows(page, 0, 'no outbound batch')).length === 1, 'direction "outbound" finds none of the inbound batch');
  await searchTrace(page, { client_ip: '127.0.0.2' });
  const fromListed = await traceRows(page, 1, 'the newsletter by client IP');
  check(fromListed.length === 1 && fromListed[0][3] === 'Newsletter one' && fromListed[0][6] === '127.0.0.2',
    `client IP 127.0.0.2 finds the newsletter only (${fromListed.map((r) => r[3]).join(', ')})`);
  await shot(page, 'trace-client-ip');

  await searchTrace(page, { recipient: 'u@localhost' });
  await pageWait(page, () => [...document.querySelectorAll('[aria-label="Trace results"] a')].some((a) => a.textContent === 'Weekly news'), null, 'Weekly news');
  await page.click(`[aria-label="Trace results"] a:text-is("Weekly news")`);
  await page.waitForSelector('ol.timeline li');
  const timeline = await page.textContent('ol.timeline');
  check(timeline.includes('received') && timeline.includes('delivered'), 'the timeline shows receipt and delivery');
  check((await page.textContent('h1')) === 'Weekly news', 'the detail view names the message');
  check((await page.textContent('main')).includes('spf=none'), 'the detail view shows the authentication results');
  await shot(page, 'trace-detail');
  await accessible(page, 'trace detail');

  // From a quarantined message's timeline to its quarantine item.
  await page.click('a:text-is("Back to the search")');
  await searchTrace(page, { subject: 'Also quarantine me' });
  await traceRows(page, 1, 'the quarantined message');
  await page.click(`[aria-label="Trace results"] a:text-is("Also quarantine me")`);
  await page.click('a:text-is("The quarantine item")');
  const opened = await page.waitForSelector('article.card h2:text-is("Also quarantine me")').then(() => true, () => false);
  const rows = await page.$$eval('[aria-label="Quarantined messages"] tbody tr', (r) => r.length);
  check(opened && rows === 1, `the timeline links to its quarantine item, shown alone and opened (${rows} row(s))`);

  // A deferred message's timeline has the delivery attempt with the remote reply.
  await page.click('nav >> text=Message trace');
  await searchTrace(page, { subject: 'Slow hop' });
  await traceRows(page, 1, 'the deferred message');
  await page.click(`[aria-label="Trace results"] a:text-is("Slow hop")`);
  const attempt = await pageWait(page, (reply) => [...document.querySelectorAll('ol.timeline li')].map((li) => li.textContent)
    .find((x) => x.includes(reply)), DEFER_REPLY, 'the attempt in the timeline').catch(() => '');
  check(attempt.includes('x@slow.example.org') && attempt.includes('deferred'), `the timeline shows the delivery attempt and the next hop's reply (${attempt})`);
  await shot(page, 'trace-deferred');
}

async function clicksPage(t) {
  const { page, shot, context, link } = t;
  const other = await context.newPage();
  await other.goto(link);
  await other.close();
  await page.click('nav >> text=URL trace');
  await page.fill('input[name=url]', 'blocked.test');
  await page.click('form[aria-label="Filter clicks"] button[type=submit]');
  const clickRow = await pageWait(page, () => {
    const rows = [...document.querySelectorAll('[aria-label=Clicks] tbody tr')].map((r) => r.textContent);
    return rows.find((x) => x.includes('http://blocked.test/x') && x.includes('blocked'));
  }, null, 'the click').catch(() => null);
  check(!!clickRow, 'the click on the blocked link is in the URL trace');
  const verdict = await page.textContent('[aria-label=Clicks] tbody tr td:nth-child(4)');
  await page.selectOption('form[aria-label="Filter clicks"] select', 'allowed');
  check(await pageWait(page, () => document.querySelector('[aria-label=Clicks] tbody')?.textContent === 'nothing', null, 'no allowed clicks').catch(() => false),
    `the verdict filter "allowed" hides the ${verdict} click`);
  await page.selectOption('form[aria-label="Filter clicks"] select', verdict);
  check(await pageWait(page, () => document.querySelector('[aria-label=Clicks] tbody')?.textContent.includes('blocked.test'), null, 'the click again').catch(() => false),
    `the verdict filter "${verdict}" shows it`);
  await shot(page, 'clicks');
  await accessible(page, 'URL trace');
  // The dashboard's top malicious URLs now count it.
  await page.click('nav >> text=Dashboard');
  const top = await pageWait(page, () => [...document.querySelectorAll('[aria-label="Malicious URLs"] tbody tr')]
    .map((r) => [...r.cells].map((c) => c.textContent)).find((r) => r[0] === 'http://blocked.test/x'), null, 'the top URLs').catch(() => null);
  check(top?.[1] === '1', `the dashboard's top malicious URLs list the clicked link once (${JSON.stringify(top)})`);
}

const queueRow = (page, subject) => page.locator('[aria-label="Queued messages"] tbody tr', { hasText: subject });
const queueCell = (page, subject, col) => queueRow(page, subject).locator(`td:nth-child(${col})`).textContent();

// The queue: both deferred with their last error, the TLS one grouped by
// destination; hold, release and retry the slow one; retry TLS failures acts
// on the TLS one only. Every state is read back from the API.
async function queuePage(t) {
  const { page, shot, apiGet } = t;
  const queued = async (subject) => ((await apiGet('/api/v1/queue')).messages ?? []).find((m) => m.subject === subject);
  const attempts = (m) => Math.max(...m.recipients.map((r) => r.attempts));
  const slow = await waitFor(async () => { const m = await queued('Slow hop'); return m?.state === 'deferred' ? m : null; }, 'the slow message deferred');
  const tls = await waitFor(async () => { const m = await queued('TLS hop'); return m?.state === 'deferred' ? m : null; }, 'the TLS message deferred');
  await page.click('nav >> text=Queue');
  await pageWait(page, () => document.querySelectorAll('[aria-label="Queued messages"] tbody tr button').length >= 2, null, 'the queue');
  check((await queueCell(page, 'Slow hop', 5)) === 'deferred' && (await queueCell(page, 'Slow hop', 7)).includes(DEFER_REPLY),
    `the slow message shows as deferred with the next hop's reply (${await queueCell(page, 'Slow hop', 7)})`);
  // "2026-11-28 23:30:00 UTC" -> ms; received in the last hour, next tried after the retry delay (3600 s, with jitter).
  const when = async (col) => Date.parse((await queueCell(page, 'Slow hop', col)).replace(' ', 'T').replace(' UTC', 'Z'));
  const [received, next] = [await when(2), await when(8)];
  check(Date.now() - received < 3.6e6 && received <= Date.now() + 1000 && next > Date.now() && next - Date.now() <= 7.2e6,
    `the queue shows when it was received and when it is next tried (${await queueCell(page, 'Slow hop', 2)}; ${await queueCell(page, 'Slow hop', 8)})`);
  const tlsRows = await cellTexts(page, 'TLS failures', 1);
  check(tlsRows.length === 1 && tlsRows[0] === 'tls.example.org',
    `TLS failures by destination lists tls.example.org only (${tlsRows.join(', ')}; last error ${tls.recipients[0].last_reply})`);
  await shot(page, 'queue');
  await accessible(page, 'queue');

  const state = async (want) => waitFor(async () => (await apiGet(`/api/v1/queue/${slow.id}`)).state === want, `state ${want}`).catch(() => false);
  await queueRow(page, 'Slow hop').locator('button:text-is("Hold")').click();
  check(await state('held'), 'Hold: the API reads the message back as held');
  await pageWait(page, () => [...document.querySelectorAll('[aria-label="Queued messages"] tbody tr')].some((r) => r.cells[4]?.textContent === 'held'), null, 'held in the page').catch(() => null);
  check((await queueCell(page, 'Slow hop', 5)) === 'held', 'the page shows it held');
  await shot(page, 'queue-held');
  await queueRow(page, 'Slow hop').locator('button:text-is("Release")').click();
  check(await state('deferred'), 'Release: the API reads it back as deferred (not held)');
  const before = attempts(await apiGet(`/api/v1/queue/${slow.id}`));
  await queueRow(page, 'Slow hop').locator('button:text-is("Retry")').click();
  const retried = await waitFor(async () => { const m = await apiGet(`/api/v1/queue/${slow.id}`); return attempts(m) > before ? m : null; }, 'the retry').catch(() => null);
  check(!!retried && retried.state === 'deferred', `Retry: another attempt was made (${before} -> ${retried && attempts(retried)}) and it is deferred again`);
  await page.click('button:text-is("Refresh")');
  await pageWait(page, (n) => [...document.querySelectorAll('[aria-label="Queued messages"] tbody tr')].some((r) => r.textContent.includes('Slow hop') && Number(r.cells[5]?.textContent) >= n), before + 1, 'attempts in the page').catch(() => null);
  check(Number(await queueCell(page, 'Slow hop', 6)) > before, 'the page shows the new attempt count');

  // "Retry now" on the destination's row, then for every TLS failure.
  const tlsFirst = attempts(await apiGet(`/api/v1/queue/${tls.id}`));
  await page.click('button[aria-label="Retry tls.example.org now"]');
  const perDestination = await statusOf(page, 'Retry tls.example.org now:');
  check(perDestination === 'Retry tls.example.org now: 1 message(s) due now', `retry now for tls.example.org (${perDestination})`);
  check(await waitFor(async () => attempts(await apiGet(`/api/v1/queue/${tls.id}`)) > tlsFirst, 'the destination retry').catch(() => false),
    "the destination's message got another attempt");
  const slowBefore = attempts(await apiGet(`/api/v1/queue/${slow.id}`));
  const tlsBefore = attempts(await apiGet(`/api/v1/queue/${tls.id}`));
  await page.click('button:text-is("Retry TLS failures now")');
  const outcome = await statusOf(page, 'Retry TLS failures now:');
  check(outcome === 'Retry TLS failures now: 1 recipient(s) due now', `retry TLS failures reschedules the one TLS failure (${outcome})`);
  const tlsRetried = await waitFor(async () => attempts(await apiGet(`/api/v1/queue/${tls.id}`)) > tlsBefore, 'the TLS retry').catch(() => false);
  check(tlsRetried, 'the TLS-failed message got another attempt');
  check(attempts(await apiGet(`/api/v1/queue/${slow.id}`)) === slowBefore, 'the non-TLS deferral was left alone');
  await shot(page, 'queue-retried');
}

async function attachmentsPage(t) {
  const { page, shot } = t;
  await page.click('nav >> text=Attachments');
  const att = await pageWait(page, () => [...document.querySelectorAll('[aria-label=Attachments] tbody tr')].map((r) => r.textContent).find((x) => x.includes('report.txt')), null, 'the attachment row').catch(() => '');
  check(att.includes('text/plain'), `the attachment is listed with its type and verdict (${att})`);
  await shot(page, 'attachments');
  await accessible(page, 'attachments');
}

// Policies: the active configuration, "test a message" on an uploaded .eml,
// reload (the count), then a broken rules file (its FILE:LINE error, the
// previous rules still active).
async function policiesPage(t) {
  const { page, shot, tmp } = t;
  await page.click('nav >> text=Policies');
  const policies = await pageWait(page, () => {
    const x = document.querySelector('main')?.textContent ?? '';
    return x.includes('Hold quarantine-me') ? x : null;
  }, null, 'the active rules').catch(() => '');
  check(policies.includes('Hold quarantine-me') && /\[links\][^\[]*enabled = true/.test(policies),
    'the policies page shows the active rules file and the Safe Links configuration');
  for (const s of await page.$$('main details summary')) await s.click();
  fs.writeFileSync(`${tmp}/test.eml`, message({ from: 'boss@partner.example', to: ['u@localhost'], subject: 'Please quarantine me', body: 'x', id: 't1' }));
  await page.setInputFiles('input[name=eml]', `${tmp}/test.eml`);
  await page.fill('input[name=rcpt]', 'u@localhost');
  await page.click('form[aria-label="Test a message"] button[type=submit]');
  await pageWait(page, () => document.querySelector('[aria-label="Test result"], [role=alert]'), null, 'the rules test').catch(() => null);
  const matched = await cellTexts(page, 'Matched rules', 1);
  const outcome = (await page.textContent('[aria-label="Test result"] p').catch(() => '')) ?? '';
  check(JSON.stringify(matched) === JSON.stringify(['Hold quarantine-me']) && outcome.includes('quarantine'),
    `"test a message" shows the matched rule and the outcome (${matched.join(', ')}; ${outcome})`);
  await accessible(page, 'policies');

  await page.click('button:text-is("Reload rules")');
  const reloaded = await statusOf(page, 'Reloaded');
  check(reloaded === `Reloaded 2 rule(s) from ${tmp}/rules.toml`, `reload reports the rule count (${reloaded})`);
  fs.writeFileSync(`${tmp}/rules.toml`, `${RULES}\n[[rule]]\nname = "Broken"\npriority = "high"\nactions = [{ quarantine = true }]\n`);
  await page.click('button:text-is("Reload rules")');
  const failed = await statusOf(page, 'Reload failed');
  const errors = await page.$$eval('[aria-label="Rules file errors"] li', (li) => li.map((x) => x.textContent)).catch(() => []);
  check(failed.startsWith('Reload failed:') && failed.includes('the previous rules stay active'), `a broken file is refused (${failed})`);
  check(errors.some((e) => e.startsWith(`${tmp}/rules.toml:`) && /^[^:]+:\d+: /.test(e)), `the error names FILE:LINE (${errors.join(' | ')})`);
  await shot(page, 'policies');
  fs.writeFileSync(`${tmp}/rules.toml`, RULES);
}

// Phone width: no page scrolls sideways (wide tables scroll inside their own box).
async function phone(t) {
  const { page, shot } = t;
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [name, label, sel] of [['dashboard', 'Dashboard', '[aria-label=Totals]'], ['trace', 'Message trace', 'form[aria-label="Search the trace"]'],
    ['quarantine', 'Quarantine', '[aria-label="Quarantined messages"]'], ['clicks', 'URL trace', '[aria-label=Clicks]'],
    ['attachments', 'Attachments', '[aria-label=Attachments]'], ['queue', 'Queue', '[aria-label="Queued messages"]'],
    ['policies', 'Policies', 'form[aria-label="Test a message"]']]) {
    await page.click(`nav >> text=${label}`);
    // The page's main table or form, with data where the page has some.
    await pageWait(page, (sel) => { const e = document.querySelector(sel); return e && !/^(nothing)?$/.test(e.querySelector('tbody')?.textContent ?? 'x'); }, sel, label).catch(() => null);
    const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    check(scroll <= inner, `${label} fits a 390 px phone screen without sideways scrolling (${scroll} <= ${inner})`);
    if (name === 'quarantine' || name === 'queue') await shot(page, `${name}-phone`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

// A viewer sees the quarantine but cannot release (in the page or the API).
async function viewer(t) {
  const { page, shot, context } = t;
  await page.click('header button:text-is("Sign out")');
  await page.waitForSelector('form[aria-label="Sign in"]');
  check(!(await context.cookies()).some((c) => c.name === 'mailmoat_session' && c.value), 'signing out clears the cookie');
  await signIn(page, 'victor', PASSWORDS.victor);
  await page.click('nav >> text=Quarantine');
  await heldCount(page, 2, 'two held items');
  await openItem(page, 'Invoice attached');
  const note = await page.textContent('article.card .note').catch(() => '');
  check(note.includes('Malware items are previewed by admins only') && (await page.$('article.card button:text-is("Preview")')) === null,
    `a viewer cannot preview the malware item (${note})`);
  check((await page.$('article.card button:text-is("Release to all")')) === null, 'a viewer is offered no release');
  check((await page.$('button:text-is("Release selected")')) === null && (await page.$(`${Q} input[type=checkbox]`)) === null, 'a viewer gets no bulk selection');
  const forced = await page.evaluate(async () => {
    const s = await (await fetch('/api/v1/session')).json();
    const items = (await (await fetch('/api/v1/quarantine?state=held')).json()).items;
    const r = await fetch(`/api/v1/quarantine/${items[0].id}/release`, {
      method: 'POST', headers: { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' }, body: '{}' });
    return r.status;
  });
  check(forced === 403, `the API refuses a viewer's release (${forced})`);
  await shot(page, 'quarantine-viewer');

  // Session end: setting victor's password ends his sessions; the next
  // request brings back the sign-in form saying why, and the new password works.
  execFileSync(binary, ['admin', 'user', 'passwd', 'victor', ...t.common], { input: 'victor new console pw 3\n' });
  await page.click('nav >> text=Dashboard');
  await page.waitForSelector('form[aria-label="Sign in"]');
  const why = (await page.textContent('main.signin [role=status]').catch(() => '')) ?? '';
  check(why.startsWith('Your session ended: session expired or unknown'), `an ended session returns to the sign-in form with the reason (${why})`);
  await shot(page, 'session-ended');
  await signIn(page, 'victor', 'victor new console pw 3');
  check((await page.textContent('header .who')).includes('victor (viewer)'), 'signed in again with the new password');
}

async function signInPage(t) {
  const { page, shot, context, base } = t;
  const first = await page.goto(`${base}/console/`);
  const csp = first.headers()['content-security-policy'] ?? '';
  check(csp.startsWith("default-src 'self'"), `the console is served with CSP ${csp}`);
  await page.waitForSelector('form[aria-label="Sign in"]');
  await shot(page, 'signin');
  await accessible(page, 'sign-in');
  await page.fill('input[name=user]', 'alice');
  await page.fill('input[name=password]', 'wrong password here');
  await page.click('button[type=submit]');
  await page.waitForSelector('[role=alert]');
  check((await page.textContent('[role=alert]')).includes('wrong user name or password'), 'a wrong password is refused');
  await signIn(page, 'alice', PASSWORDS.alice);
  check((await page.textContent('header .who')).includes('alice (admin)'), 'signed in as alice (admin)');
  const cookie = (await context.cookies()).find((c) => c.name === 'mailmoat_session');
  check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
  // Keyboard: Tab from the top reaches the navigation links.
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.closest('nav') ? document.activeElement.textContent : '');
  check(focused === 'Dashboard', `the first Tab stop is the navigation (${focused})`);
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailmoat-console-'));
  const httpPort = await freePort();
  const base = `http://127.0.0.1:${httpPort}`;
  const hop = await deferringNextHop();
  writeConfig(tmp, hop.address().port);
  const common = ['--set', `server.data_dir=${tmp}/var`, '--set', `http.listen=127.0.0.1:${httpPort}`];
  const gw = spawn(binary, ['serve', '-c', `${tmp}/mailmoat.toml`, ...common,
    '--set', 'smtp.listener.0.address=127.0.0.1:0', '--set', `dns.zone_files=["${tmp}/zone.db"]`,
    '--ready-file', `${tmp}/ready.json`], { stdio: ['ignore', 'ignore', fs.openSync(`${tmp}/gateway.log`, 'w')] });
  let browser;
  let crashed = false;
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
          '--helo', 'client.example.com', '--data', `@${tmp}/msg.eml`, '--silent', '2',
          ...(m.via ? ['--local-interface', m.via] : [])]);
        return !expectFail;
      } catch {
        return expectFail;
      }
    };
    const messages = sendAll(send);

    // What the gateway delivered, and the rewritten link in m3.
    const inbox = `${tmp}/var/mailboxes/u@localhost/new`;
    await waitFor(() => fs.existsSync(inbox) && fs.readdirSync(inbox).length === 4, 'four messages for u@localhost', 180000);
    const mails = fs.readdirSync(inbox).map((f) => fs.readFileSync(path.join(inbox, f), 'utf8'));
    const link = mails.map((m) => m.match(/href="([^"]*\/v1\/l\?[^"]*)"/)).find(Boolean)[1].replaceAll('&amp;', '&');
    // Per recipient: u@ 4 + the batch 12 delivered; q1 (2) q2..q5, the newsletter and the invoice quarantined.
    const expected = { 'inbound/delivered': 16, 'inbound/quarantined': 8, 'inbound/rejected': 1, 'inbound/deferred': 2 };
    await waitFor(async () => {
      const s = await apiGet(`/api/v1/stats?since=${Date.now() * 1000 - 3.6e9}&until=${Date.now() * 1000 + 3.6e9}`);
      const sum = {};
      for (const c of s.counts) sum[`${c.direction}/${c.status}`] = (sum[`${c.direction}/${c.status}`] ?? 0) + c.count;
      return Object.entries(expected).every(([k, v]) => sum[k] === v) ? sum : null;
    }, 'the trace to record every message', 180000).catch((e) => check(false, e.message));

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30000);
    let dialogs = 0;
    const consoleErrors = [];
    page.on('dialog', (d) => { dialogs++; d.dismiss(); });
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    const shot = async (p, name) => {
      const file = path.join(outDir, `console-${name}.png`);
      await p.screenshot({ path: file, fullPage: true });
      check(fs.statSync(file).size > 1000, `screenshot ${file}`);
    };
    const t = { page, context, shot, apiGet, tmp, base, send, link, expected, messages, common };
    await signInPage(t);
    await dashboardPage(t);
    await tracePage(t);
    await quarantineRelease(t);
    await quarantineNewsletter(t);
    await quarantineBulk(t);
    await clicksPage(t);
    await queuePage(t);
    await attachmentsPage(t);
    await policiesPage(t);
    await phone(t);
    await viewer(t);

    check(dialogs === 0, 'no alert() ran anywhere');
    check(consoleErrors.every((e) => !/Content Security Policy/i.test(e)), `no CSP violations (${consoleErrors.join(' | ')})`);
  } catch (e) {
    crashed = true;
    throw e;
  } finally {
    if (browser) await browser.close();
    hop.close();
    gw.kill('SIGTERM');
    await new Promise((r) => gw.once('exit', r));
    if (result.failures || crashed) console.log(fs.readFileSync(`${tmp}/gateway.log`, 'utf8'));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(result.failures ? 1 : 0), (e) => {
  console.error(e);
  process.exit(1);
});
