// Message trace: a search form over GET /api/v1/trace (sender, recipient,
// subject words, Message-ID, client IP, direction, status, time range; paged
// with next_cursor, previous pages by the cursors that led to them) and a
// message's timeline from GET /api/v1/trace/ID, with its
// Authentication-Results and links to its quarantine item and clicks.
import { useState } from 'preact/hooks';
import { ErrorLine, Table, useApi } from './ui';
import { formatTime, inputToMicros, queryString } from './logic';

type TraceRecord = {
  trace_id: string; recipient: string; sender: string; subject: string; message_id: string;
  client_ip: string; direction: string; status: string; received_at: number;
};
type TraceEvent = { at: number; type: string; recipient: string; status?: string; detail: unknown };

const STATUSES = ['', 'received', 'analyzing', 'delivered', 'deferred', 'failed', 'quarantined', 'filtered_as_spam',
  'rejected', 'redirected', 'expanded', 'deleted'];

export function TracePage() {
  const [form, setForm] = useState({
    sender: '', recipient: '', subject: '', message_id: '', client_ip: '', direction: '', status: '', since: '', until: '', limit: '25',
  });
  const [query, setQuery] = useState('?limit=25');
  const [cursors, setCursors] = useState<string[]>([]);
  const result = useApi<{ records: TraceRecord[]; next_cursor: string }>(`/api/v1/trace${query}`);
  function search(e: Event, cursor = '') {
    e.preventDefault();
    setQuery(queryString({
      sender: form.sender, recipient: form.recipient, subject: form.subject, message_id: form.message_id,
      client_ip: form.client_ip, direction: form.direction, status: form.status, since: inputToMicros(form.since),
      until: inputToMicros(form.until), limit: form.limit, cursor,
    }));
  }
  const choice = (name: 'status' | 'direction' | 'limit', label: string, values: string[]) => (
    <label>
      {label}{' '}
      <select name={name} value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.currentTarget.value })}>
        {values.map((s) => <option value={s}>{s || 'any'}</option>)}
      </select>
    </label>
  );
  const field = (name: keyof typeof form, label: string, when = false) => {
    const onInput = (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [name]: e.currentTarget.value });
    return (
      <label>
        {label}{' '}
        {when ? <input name={name} type="datetime-local" value={form[name]} onInput={onInput} />
          : <input name={name} type="text" value={form[name]} onInput={onInput} />}
      </label>
    );
  };
  const records = result.data?.records ?? [];
  return (
    <section aria-labelledby="trace-h">
      <h1 id="trace-h">Message trace</h1>
      <form class="search" onSubmit={(e) => { setCursors([]); search(e); }} aria-label="Search the trace">
        {field('sender', 'Sender')}
        {field('recipient', 'Recipient')}
        {field('subject', 'Subject words')}
        {field('message_id', 'Message-ID')}
        {field('client_ip', 'Client IP')}
        {choice('direction', 'Direction', ['', 'inbound', 'outbound', 'internal'])}
        {choice('status', 'Status', STATUSES)}
        {field('since', 'From (UTC)', true)}
        {field('until', 'To (UTC)', true)}
        {choice('limit', 'Per page', ['10', '25', '100'])}
        <button type="submit">Search</button>
      </form>
      <ErrorLine text={result.error} />
      <Table label="Trace results" head={['received', 'sender', 'recipient', 'subject', 'status', 'direction', 'client IP']}
        rows={records.map((r) => [
          formatTime(r.received_at), r.sender, r.recipient,
          <a href={`#/trace/${encodeURIComponent(r.trace_id)}`}>{r.subject || '(no subject)'}</a>,
          r.status, r.direction, r.client_ip,
        ])} />
      <div class="row">
        <span aria-live="polite">Page {cursors.length + 1}</span>
        {cursors.length > 0 ? (
          <button type="button" onClick={(e) => { const c = cursors.slice(0, -1); setCursors(c); search(e, c[c.length - 1] ?? ''); }}>
            Previous page
          </button>
        ) : null}
        {result.data?.next_cursor ? (
          <button type="button" onClick={(e) => { setCursors([...cursors, result.data!.next_cursor]); search(e, result.data!.next_cursor); }}>
            Next page
          </button>
        ) : null}
      </div>
    </section>
  );
}

function describe(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  if (typeof detail === 'string') return detail;
  if (typeof detail !== 'object') return String(detail);
  return Object.entries(detail as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('  ');
}

export function TraceDetail({ id }: { id: string }) {
  const d = useApi<{ records: TraceRecord[]; events: TraceEvent[] }>(`/api/v1/trace/${encodeURIComponent(id)}`);
  if (d.error) return <ErrorLine text={d.error} />;
  if (!d.data) return <p>Loading…</p>;
  const first = d.data.records[0];
  // The auth filter's event holds what went into the Authentication-Results header.
  const authResults = d.data.events
    .filter((e) => e.type === 'authentication')
    .map((e) => (e.detail && typeof e.detail === 'object' ? (e.detail as any).detail : e.detail))
    .filter((x): x is string => typeof x === 'string');
  const quarantined = d.data.events.find((e) => e.type === 'quarantined');
  return (
    <section aria-labelledby="detail-h">
      <h1 id="detail-h">{first?.subject || '(no subject)'}</h1>
      <p><a href="#/trace">Back to the search</a></p>
      <dl class="facts">
        <dt>From</dt><dd>{first?.sender}</dd>
        <dt>Message-ID</dt><dd>{first?.message_id}</dd>
        <dt>Client IP</dt><dd>{first?.client_ip}</dd>
        <dt>Direction</dt><dd>{first?.direction}</dd>
      </dl>
      <h2>Recipients</h2>
      <Table label="Recipients" head={['recipient', 'status']} rows={d.data.records.map((r) => [r.recipient, r.status])} />
      {authResults.length ? (
        <>
          <h2>Authentication results</h2>
          {authResults.map((a) => <pre class="wrap">{a}</pre>)}
        </>
      ) : null}
      <h2>Timeline</h2>
      <ol class="timeline">
        {d.data.events.map((e) => (
          <li>
            <time>{formatTime(e.at)}</time> <strong>{e.type}</strong> {e.recipient} {e.status ? `→ ${e.status}` : ''}
            <div class="detail">{describe(e.detail)}</div>
          </li>
        ))}
      </ol>
      <p>
        {quarantined ? <><a href={`#/quarantine?queue_id=${encodeURIComponent(id)}`}>The quarantine item</a>{' · '}</> : null}
        {first ? <a href={`#/clicks?message_id=${encodeURIComponent(first.message_id)}`}>Clicks on this message's links</a> : null}
      </p>
    </section>
  );
}
