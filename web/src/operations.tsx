// URL trace (Safe Links clicks: filter by URL, recipient, verdict) and the
// queue (deferred messages with their last error, retry / hold / release, and
// TLS failures by destination with "retry now" per destination and for all).
import { useState } from 'preact/hooks';
import { api, Session } from './api';
import { ErrorLine, Table, useAction, useApi } from './ui';
import { formatTime, queryString, QueueMessage, tlsFailuresByDestination } from './logic';

type Click = { id: number; at: number; recipient: string; message_id: string; url: string; verdict: string; action: string; client_ip: string };

export function ClicksPage() {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const [form, setForm] = useState({ url_contains: '', recipient: '', verdict: '' });
  const [query, setQuery] = useState('?limit=200');
  const messageId = params.get('message_id') ?? '';
  const list = useApi<{ clicks: Click[] }>(`/api/v1/clicks${query}`);
  const clicks = (list.data?.clicks ?? []).filter(
    (c) => (!form.verdict || c.verdict === form.verdict) && (!messageId || c.message_id === messageId));
  return (
    <section aria-labelledby="c-h">
      <h1 id="c-h">URL trace</h1>
      {messageId ? <p>Clicks on links of message {messageId}</p> : null}
      <form class="search" aria-label="Filter clicks"
        onSubmit={(e) => { e.preventDefault(); setQuery(queryString({ url_contains: form.url_contains, recipient: form.recipient, limit: 200 })); }}>
        <label>URL contains <input name="url" value={form.url_contains} onInput={(e) => setForm({ ...form, url_contains: e.currentTarget.value })} /></label>
        <label>Recipient <input name="recipient" value={form.recipient} onInput={(e) => setForm({ ...form, recipient: e.currentTarget.value })} /></label>
        <label>Verdict <select value={form.verdict} onChange={(e) => setForm({ ...form, verdict: e.currentTarget.value })}>
          <option value="">any</option><option value="allowed">allowed</option><option value="suspicious">suspicious</option><option value="malicious">malicious</option>
        </select></label>
        <button type="submit">Filter</button>
      </form>
      <ErrorLine text={list.error} />
      <Table label="Clicks" head={['time', 'recipient', 'URL', 'verdict', 'action', 'client IP']}
        rows={clicks.map((c) => [formatTime(c.at), c.recipient, <span class="url">{c.url}</span>, c.verdict, c.action, c.client_ip])} />
    </section>
  );
}

export function QueuePage({ session }: { session: Session }) {
  const admin = session.role === 'admin';
  const list = useApi<{ messages: (QueueMessage & { sender: string; subject: string; received_at: number })[] }>('/api/v1/queue');
  const act = useAction();
  const messages = list.data?.messages ?? [];
  const run = (what: string, fn: () => Promise<unknown>) => act.run(what, fn).then(list.reload);
  const pending = (m: QueueMessage) => m.recipients.filter((r) => r.status === 'pending');
  const attempts = (m: QueueMessage) => Math.max(0, ...pending(m).map((r) => r.attempts));
  // The queue counts in Unix seconds (the trace in microseconds).
  const seconds = (t: number) => formatTime(t * 1_000_000);
  const nextAttempt = (m: QueueMessage) => {
    const due = pending(m).map((r) => r.next_attempt ?? 0).filter((t) => t > 0);
    return due.length ? seconds(Math.min(...due)) : m.state === 'held' ? '' : 'now';
  };
  const lastError = (m: QueueMessage) => pending(m).filter((r) => r.last_reply).map((r) => `${r.address}: ${r.last_reply}`).join('; ');
  // One destination's TLS failures: each of their messages is made due now.
  async function retryMessages(ids: string[]) {
    for (const id of ids) await api('POST', `/api/v1/queue/${id}/retry`, {});
    return `${ids.length} message(s) due now`;
  }
  async function retryTls() {
    const r = await api<{ recipients_rescheduled: number }>('POST', '/api/v1/queue/retry', { tls_failures: true });
    return `${r.recipients_rescheduled} recipient(s) due now`;
  }
  return (
    <section aria-labelledby="queue-h">
      <h1 id="queue-h">Queue</h1>
      <button type="button" onClick={list.reload}>Refresh</button>
      {act.line}
      <ErrorLine text={list.error} />
      <Table label="Queued messages" head={['id', 'received', 'sender', 'subject', 'state', 'attempts', 'last error', 'next attempt', admin ? 'actions' : '']}
        rows={messages.map((m) => [
          m.id, seconds(m.received_at), m.sender, m.subject, m.state, attempts(m), lastError(m), nextAttempt(m),
          admin ? (
            <span class="actions">
              <button type="button" onClick={() => run(`Retry ${m.id}`, () => api('POST', `/api/v1/queue/${m.id}/retry`, {}))}>Retry</button>
              {m.state === 'held'
                ? <button type="button" onClick={() => run(`Release ${m.id}`, () => api('POST', `/api/v1/queue/${m.id}/release`, {}))}>Release</button>
                : <button type="button" onClick={() => run(`Hold ${m.id}`, () => api('POST', `/api/v1/queue/${m.id}/hold`, {}))}>Hold</button>}
            </span>
          ) : '',
        ])} />
      <h2>TLS failures by destination</h2>
      <Table label="TLS failures" head={['destination', 'recipients', 'last error', admin ? 'action' : '']}
        rows={tlsFailuresByDestination(messages).map(([d, e]) => [d, e.count, e.last, admin ? (
          <button type="button" aria-label={`Retry ${d} now`} onClick={() => run(`Retry ${d} now`, () => retryMessages(e.ids))}>Retry now</button>
        ) : ''])} />
      {admin ? <button type="button" onClick={() => run('Retry TLS failures now', retryTls)}>Retry TLS failures now</button> : null}
    </section>
  );
}
