// The quarantine part of the console's browser test (console_browser.mjs):
// filters, release to a selected recipient, preview, allow sender (the next
// newsletter from the same DNSBL-listed client is delivered), false positive,
// bulk release and delete; every outcome read back from the Maildir or the API.
import fs from 'node:fs';
import path from 'node:path';
import { accessible, cellTexts, check, pageWait, statusOf, waitFor } from './console_support.mjs';

export const Q = '[aria-label="Quarantined messages"]';
const qRow = (page, subject) => page.locator(`${Q} tbody tr`, { hasText: subject });
export const heldCount = (page, n, what) => pageWait(page, (n) => document.querySelectorAll('[aria-label="Quarantined messages"] tbody tr button').length === n, n, what);

async function mailIn(tmp, rcpt, what) {
  const dir = `${tmp}/var/mailboxes/${rcpt}/new`;
  const f = await waitFor(() => fs.existsSync(dir) && fs.readdirSync(dir)[0], what, 120000).catch(() => null);
  return f ? fs.readFileSync(path.join(dir, f), 'utf8') : '';
}

export async function openItem(page, subject) {
  await qRow(page, subject).locator('button:text-is("Open")').click();
  await page.waitForSelector(`article.card h2:text-is("${subject}")`);
}

// Filters, then release of one item to all its recipients.
export async function quarantineRelease(t) {
  const { page, shot, apiGet, tmp } = t;
  await page.click('nav >> text=Quarantine');
  await heldCount(page, 7, 'seven held items');
  const filter = 'form[aria-label="Filter the quarantine"]';
  await page.fill(`${filter} input[name=since]`, '2030-01-01T00:00');
  await page.click(`${filter} button[type=submit]`);
  const none = await pageWait(page, () => document.querySelector('[aria-label="Quarantined messages"] tbody')?.textContent === 'nothing', null, 'an empty filter result').catch(() => false);
  check(none, 'a date filter after the messages shows nothing');
  await page.fill(`${filter} input[name=since]`, '');
  await page.fill(`${filter} input[name=sender]`, 'boss@*');
  await page.click(`${filter} button[type=submit]`);
  check(await heldCount(page, 5, 'the sender filter').catch(() => false), 'the sender filter shows the five items from boss@partner.example');
  await page.fill(`${filter} input[name=sender]`, '');
  await page.click(`${filter} button[type=submit]`);
  await heldCount(page, 7, 'seven held items again');
  // Release to one of its two recipients.
  await openItem(page, 'Please quarantine me');
  await page.locator('article.card fieldset label', { hasText: 'q2@localhost' }).locator('input').check();
  await page.click('article.card button:text-is("Release to selected")');
  const released = await statusOf(page, 'Release:');
  check(released === 'Release: done', `release reported done (${released})`);
  check((await mailIn(tmp, 'q2@localhost', "released mail in q2@localhost's Maildir")).includes('X-Mailmoat-Released:'),
    "the released message is in q2@localhost's Maildir with its release header");
  const item = await waitFor(async () => ((await apiGet('/api/v1/quarantine?limit=100')).items ?? [])
    .find((i) => i.subject === 'Please quarantine me' && i.state === 'released'), 'the released item').catch(() => null);
  check(JSON.stringify(item?.released_to) === JSON.stringify(['q2@localhost']), `the API records the release to q2@localhost only (${JSON.stringify(item?.released_to)})`);
  check(!fs.existsSync(`${tmp}/var/mailboxes/q1@localhost/new`) || fs.readdirSync(`${tmp}/var/mailboxes/q1@localhost/new`).length === 0,
    'the recipient not selected got nothing');
  const traced = await waitFor(async () => {
    const tr = await apiGet('/api/v1/trace?recipient=q2@localhost');
    const delivered = tr.records?.find((r) => r.status === 'delivered');
    const held = tr.records?.find((r) => r.trace_id !== delivered?.trace_id);
    if (!delivered || !held) return null;
    const d = await apiGet(`/api/v1/trace/${held.trace_id}`);
    return JSON.stringify(d.events).includes('released') ? d : null;
  }, 'the release in the trace').catch(() => null);
  check(!!traced, 'the trace shows the release on the held message and the released copy delivered');
}

// Preview, allow sender (the next newsletter is delivered), false positive.
export async function quarantineNewsletter(t) {
  const { page, shot, apiGet, tmp, send } = t;
  await heldCount(page, 6, 'six held items after the release');
  await openItem(page, 'Newsletter one');
  check((await page.textContent('article.card p')).includes('spam'), 'the DNSBL-listed newsletter is held as spam');
  await page.click('article.card button:text-is("Preview")');
  await page.waitForSelector('article.card .preview h3');
  const text = await page.textContent('article.card .preview pre');
  check(text.includes('See the attached report.'), `the preview shows the message's text (${text.slice(0, 60)})`);
  const attachments = await cellTexts(page, 'Attachments', 1);
  const types = await cellTexts(page, 'Attachments', 2);
  check(attachments.includes('report.txt') && types[attachments.indexOf('report.txt')]?.startsWith('text/plain'),
    `the preview lists the attachment report.txt with its type (${attachments.join(', ')})`);
  const headers = await page.textContent('article.card dl.headers');
  check(headers.includes('Subject') && headers.includes('Newsletter one'), 'the preview shows the headers');
  await shot(page, 'quarantine-preview');
  await accessible(page, 'quarantine');

  await page.click('article.card button:text-is("Allow sender")');
  const allowed = await statusOf(page, 'Allow sender:');
  check(allowed.startsWith('Allow sender: news@news.example.net is on the sender allow list'), `allow sender reports the sender (${allowed})`);
  check(send({ from: 'news@news.example.net', to: ['nl2@localhost'], subject: 'Newsletter two', id: 'n2', body: '<p>again</p>', via: '127.0.0.2' }), 'sent n2');
  const delivered = await mailIn(tmp, 'nl2@localhost', 'the next newsletter in the Maildir');
  check(delivered.includes('Subject: Newsletter two'), 'the next newsletter from the allowed sender (SPF pass, same listed client) is delivered, not quarantined');
  const why = await waitFor(async () => {
    const tr = await apiGet('/api/v1/trace?recipient=nl2@localhost');
    const id = tr.records?.[0]?.trace_id;
    const d = id && JSON.stringify((await apiGet(`/api/v1/trace/${id}`)).events);
    return d && d.includes('is on the sender allow list (SCL -1)') ? d : null;
  }, 'the allow-list note in the trace').catch(() => null);
  check(!!why, 'its trace says the sender is on the allow list (SCL -1)');

  await page.click('article.card button:text-is("Report false positive")');
  const reported = await statusOf(page, 'Report false positive:');
  check(/^Report false positive: item \d+ reported$/.test(reported), `false positive reported (${reported})`);
  const listed = await pageWait(page, () => [...document.querySelectorAll('[aria-label="False positives"] tbody tr')]
    .map((r) => r.textContent).find((x) => x.includes('Newsletter one')), null, 'the false-positive list').catch(() => '');
  check(listed.includes('user:alice') || listed.includes('alice'), `the false positive is listed with who reported it (${listed})`);
  await shot(page, 'quarantine-false-positive');
}

// Bulk: release two items at once, then delete two.
export async function quarantineBulk(t) {
  const { page, shot, apiGet, tmp } = t;
  for (const s of ['Bulk one quarantine me', 'Bulk two quarantine me']) await qRow(page, s).locator('input[type=checkbox]').check();
  await page.click('button:text-is("Release selected")');
  const released = await statusOf(page, 'Release 2 item(s):');
  check(released === 'Release 2 item(s): done', `bulk release reported (${released})`);
  for (const r of ['b1@localhost', 'b2@localhost'])
    check((await mailIn(tmp, r, `bulk-released mail for ${r}`)).includes('X-Mailmoat-Released:'), `bulk release delivered ${r}'s message`);
  await heldCount(page, 4, 'four held items after the bulk release');
  for (const s of ['Also quarantine me', 'Newsletter one']) await qRow(page, s).locator('input[type=checkbox]').check();
  await shot(page, 'quarantine-bulk');
  await page.click('button:text-is("Delete selected")');
  const deleted = await statusOf(page, 'Delete 2 item(s):');
  check(deleted === 'Delete 2 item(s): done', `bulk delete reported (${deleted})`);
  const left = await heldCount(page, 2, 'two held items left').catch(() => false);
  const still = (await cellTexts(page, 'Quarantined messages', 5)).sort();
  check(left && JSON.stringify(still) === JSON.stringify(['Invoice attached', 'Viewer quarantine me']), `only the untouched items are still held (${still.join(', ')})`);
  const states = await waitFor(async () => {
    const all = (await apiGet('/api/v1/quarantine?limit=100')).items ?? [];
    const by = Object.fromEntries(all.map((i) => [i.subject, i.state]));
    return by['Also quarantine me'] === 'deleted' && by['Newsletter one'] === 'deleted' && by['Bulk one quarantine me'] === 'released'
      && by['Bulk two quarantine me'] === 'released' ? by : null;
  }, 'the bulk actions in the API').catch(() => null);
  check(!!states, 'the API reads back deleted and released for the bulk-acted items');
}
