// Pure front-end logic (tested with Vitest): time formatting, hourly series
// for the charts, totals, top-N tables and grouping the deferred queue by
// destination. Nothing here touches the DOM.
export const HOUR_US = 3_600_000_000;

export function formatTime(us: number): string {
  if (!us) return '';
  return new Date(us / 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export type HourCount = { hour: number; direction: string; status: string; count: number };

// Status names of the trace grouped into the verdicts the dashboard charts.
export function verdictOf(status: string): string {
  switch (status) {
    case 'delivered':
    case 'expanded':
    case 'redirected':
      return 'delivered';
    case 'filtered_as_spam':
      return 'spam';
    case 'quarantined':
      return 'quarantined';
    case 'rejected':
      return 'rejected';
    case 'failed':
      return 'failed';
    default:
      return 'pending';
  }
}
export const VERDICTS = ['delivered', 'spam', 'quarantined', 'malware', 'phishing', 'rejected', 'failed', 'pending'];

// Safe Attachments and Safe Links quarantine what they catch (reasons
// "malware" and "phish"); the trace's status says only "quarantined", so these
// come from the quarantine items themselves, per recipient like the trace.
export type HeldItem = { created_at: number; reason: string; recipients: string[] };
export function threatOf(reason: string): 'malware' | 'phishing' | null {
  return reason === 'malware' ? 'malware' : reason === 'phish' ? 'phishing' : null;
}

// x: hour starts (seconds, as uPlot wants) covering [since, until); one series per verdict.
// Quarantined recipients of malware / phish items move from "quarantined" to
// their own series (quarantine items are inbound mail: not for outbound/internal).
export function hourlySeries(counts: HourCount[], since: number, until: number, direction: string, held: HeldItem[] = []) {
  const first = Math.floor(since / HOUR_US) * HOUR_US;
  const hours: number[] = [];
  for (let h = first; h < until; h += HOUR_US) hours.push(h);
  const index = new Map(hours.map((h, i) => [h, i]));
  const series: Record<string, number[]> = {};
  for (const v of VERDICTS) series[v] = hours.map(() => 0);
  for (const c of counts) {
    if (direction !== 'all' && c.direction !== direction) continue;
    const i = index.get(Math.floor(c.hour / HOUR_US) * HOUR_US);
    if (i === undefined) continue;
    series[verdictOf(c.status)][i] += c.count;
  }
  if (direction === 'all' || direction === 'inbound')
    for (const item of held) {
      const threat = threatOf(item.reason);
      const i = index.get(Math.floor(item.created_at / HOUR_US) * HOUR_US);
      if (!threat || i === undefined) continue;
      const n = Math.min(item.recipients.length, series.quarantined[i]);
      series.quarantined[i] -= n;
      series[threat][i] += n;
    }
  return { x: hours.map((h) => h / 1_000_000), series };
}

// Totals by direction and status: the numbers a reader compares with what was sent.
export function totals(counts: HourCount[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of counts) {
    const k = `${c.direction}/${c.status}`;
    m.set(k, (m.get(k) ?? 0) + c.count);
  }
  return m;
}

export function topN<T>(items: T[], key: (t: T) => string, n: number): [string, number][] {
  const m = new Map<string, number>();
  for (const it of items) {
    const k = key(it);
    if (k) m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

export type QueueRcpt = { address: string; status: string; attempts: number; last_reply?: string; tls_failure?: boolean; next_attempt?: number };
export type QueueMessage = { id: string; state: string; recipients: QueueRcpt[] };

export function queueByState(messages: QueueMessage[]): Record<string, number> {
  const out: Record<string, number> = { active: 0, deferred: 0, held: 0 };
  for (const m of messages) out[m.state] = (out[m.state] ?? 0) + 1;
  return out;
}

// Deferred recipients whose delivery failed a required TLS policy, by
// destination domain, with the ids of their messages (for "retry now"): the queue's own tls_failure mark (what "retry TLS
// failures" acts on); without it (an older gateway), a reply naming TLS.
function tlsFailed(r: QueueRcpt): boolean {
  if (r.status !== 'pending' || !r.last_reply) return false;
  if (r.tls_failure !== undefined) return r.tls_failure;
  return /tls|starttls|certificate|mta-sts|dane/i.test(r.last_reply);
}
export function tlsFailuresByDestination(messages: QueueMessage[]) {
  const m = new Map<string, { count: number; last: string; ids: string[] }>();
  for (const msg of messages)
    for (const r of msg.recipients) {
      if (!tlsFailed(r)) continue;
      const d = domainOf(r.address);
      const e = m.get(d) ?? { count: 0, last: '', ids: [] };
      e.count++;
      e.last = r.last_reply ?? '';
      if (!e.ids.includes(msg.id)) e.ids.push(msg.id);
      m.set(d, e);
    }
  return [...m.entries()].sort((a, b) => b[1].count - a[1].count);
}

// Query string from a search form: empty fields left out.
export function queryString(fields: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

// "2026-11-28T10:00" (a datetime-local input, read as UTC) -> microseconds.
export function inputToMicros(value: string): number | undefined {
  if (!value) return undefined;
  const t = Date.parse(value.length === 16 ? `${value}:00Z` : value);
  return Number.isNaN(t) ? undefined : t * 1000;
}

// `key=value key="quoted value"` as the filters write trace details.
export function parseKv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-z_][a-z0-9_.-]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/gi;
  for (const m of text.matchAll(re)) out[m[1].toLowerCase()] = m[2] !== undefined ? m[2] : m[3];
  return out;
}

export type Rate = { pass: number; total: number };
// SPF, DKIM and DMARC pass rates from the auth filter's result lines
// ("spf=pass dkim=fail dmarc=pass ..."); a method absent from a line did not pass.
export function authPassRates(lines: string[]): Record<'spf' | 'dkim' | 'dmarc', Rate> {
  const r = { spf: { pass: 0, total: 0 }, dkim: { pass: 0, total: 0 }, dmarc: { pass: 0, total: 0 } };
  for (const line of lines) {
    const kv = parseKv(line);
    for (const k of ['spf', 'dkim', 'dmarc'] as const) {
      r[k].total++;
      if (kv[k] === 'pass') r[k].pass++;
    }
  }
  return r;
}

export function percent(r: Rate): string {
  return r.total ? `${Math.round((100 * r.pass) / r.total)}% (${r.pass}/${r.total})` : 'no mail';
}
