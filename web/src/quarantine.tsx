// Quarantine: filters, safe preview (headers, text, attachments as text only),
// release to all or some recipients, delete, allow sender, false positive,
// bulk release/delete, and the list of reported false positives. Actions are
// for admins (the API refuses viewers too); preview of malware items is
// admin-only.
import { useEffect, useState } from 'preact/hooks';
import { api, Session } from './api';
import { ErrorLine, NotAvailableNote, Table, useAction, useApi } from './ui';
import { formatTime, inputToMicros, queryString } from './logic';

type Item = {
  id: number; queue_id: string; reason: string; policy: string; sender: string; recipients: string[]; subject: string;
  size: number; created_at: number; expires_at: number; state: string; released_to?: string[];
};
type Preview = {
  id: number; headers: { name: string; value: string }[]; text: string; html_as_text: string;
  attachments: { name: string; type: string; size: number; sha256: string; verdict: string }[];
};

type FalsePositive = { id: number; queue_id: string; sender: string; subject: string; reason: string; by: string; at: number; note: string };

function PreviewPane({ item, admin }: { item: Item; admin: boolean }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [note, setNote] = useState('');
  const blocked = item.reason === 'malware' && !admin;
  async function load() {
    setNote('');
    try {
      setPreview(await api<Preview>('GET', `/api/v1/quarantine/${item.id}/preview`));
    } catch (e) {
      setNote(`Preview: ${(e as Error).message}`);
    }
  }
  if (blocked) return <p class="note">Malware items are previewed by admins only.</p>;
  return (
    <div class="preview">
      {preview ? null : <button type="button" onClick={load}>Preview</button>}
      {note ? <p class="note">{note}</p> : null}
      {preview ? (
        <>
          <h3>Headers</h3>
          <dl class="headers">
            {preview.headers.map((h) => (<><dt>{h.name}</dt><dd>{h.value}</dd></>))}
          </dl>
          <h3>Text</h3>
          <pre class="wrap">{preview.text || preview.html_as_text}</pre>
          <h3>Attachments</h3>
          <Table label="Attachments" head={['name', 'type', 'size', 'verdict', 'SHA-256']}
            rows={preview.attachments.map((a) => [a.name, a.type, a.size, a.verdict, a.sha256])} />
        </>
      ) : null}
    </div>
  );
}

type Run = (what: string, fn: () => Promise<unknown>) => Promise<void>;

async function allowSender(item: Item) {
  const r = await api<{ sender: string }>('POST', `/api/v1/quarantine/${item.id}/allow-sender`, {});
  return `${r.sender} is on the sender allow list (honoured when SPF or DMARC passes)`;
}

async function reportFalsePositive(item: Item) {
  await api('POST', `/api/v1/quarantine/${item.id}/false-positive`, {});
  return `item ${item.id} reported`;
}

function Actions({ item, run }: { item: Item; run: Run }) {
  const [some, setSome] = useState<string[]>([]);
  const held = item.state === 'held';
  return (
    <div class="actions">
      {held ? (
        <fieldset>
          <legend>Release to</legend>
          {item.recipients.map((r) => (
            <label>
              <input type="checkbox" checked={some.includes(r)}
                onChange={(e) => setSome(e.currentTarget.checked ? [...some, r] : some.filter((x) => x !== r))} />
              {r}
            </label>
          ))}
          <button type="button" onClick={() => run('Release', () => api('POST', `/api/v1/quarantine/${item.id}/release`, some.length ? { to: some } : {}))}>
            {some.length ? 'Release to selected' : 'Release to all'}
          </button>
        </fieldset>
      ) : null}
      {item.state !== 'deleted' ? (
        <button type="button" onClick={() => run('Delete', () => api('POST', `/api/v1/quarantine/${item.id}/delete`, {}))}>Delete</button>
      ) : null}
      <button type="button" onClick={() => run('Allow sender', () => allowSender(item))}>Allow sender</button>
      <button type="button" onClick={() => run('Report false positive', () => reportFalsePositive(item))}>
        Report false positive
      </button>
    </div>
  );
}

export function QuarantinePage({ session }: { session: Session }) {
  const admin = session.role === 'admin';
  // #/quarantine?queue_id=ID (from a trace detail): that message's item, in any state, opened.
  const wanted = new URLSearchParams(location.hash.split('?')[1] ?? '').get('queue_id') ?? '';
  const [form, setForm] = useState({ reason: '', sender: '', recipient: '', state: wanted ? '' : 'held', since: '', until: '' });
  const [query, setQuery] = useState(wanted ? '?limit=1000' : '?state=held&limit=50');
  const [open, setOpen] = useState<number | null>(null);
  const [picked, setPicked] = useState<number[]>([]);
  const list = useApi<{ items: Item[] }>(`/api/v1/quarantine${query}`);
  const reported = useApi<{ items: FalsePositive[] }>('/api/v1/false-positives');
  const bulk = useAction();
  const reload = () => {
    list.reload();
    reported.reload();
  };
  const items = (list.data?.items ?? []).filter((it) => !wanted || query !== '?limit=1000' || it.queue_id === wanted);
  useEffect(() => {
    if (wanted && items.length === 1 && open === null) setOpen(items[0].id);
  }, [wanted, items.length]);
  async function bulkRun(what: string, action: string) {
    // One request per item; the first refusal stops the run and is reported.
    await bulk.run(`${what} ${picked.length} item(s)`, async () => {
      for (const id of picked) await api('POST', `/api/v1/quarantine/${id}/${action}`, {});
    });
    setPicked([]);
    reload();
  }
  const input = (name: 'reason' | 'sender' | 'recipient', label: string) => (
    <label>{label} <input name={name} value={form[name]} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })} /></label>
  );
  return (
    <section aria-labelledby="q-h">
      <h1 id="q-h">Quarantine</h1>
      <form class="search" aria-label="Filter the quarantine"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(queryString({ ...form, since: inputToMicros(form.since), until: inputToMicros(form.until), limit: 50 }));
        }}>
        {input('reason', 'Reason')}
        {input('sender', 'Sender')}
        {input('recipient', 'Recipient')}
        <label>State <select value={form.state} onChange={(e) => setForm({ ...form, state: e.currentTarget.value })}>
          <option value="held">held</option><option value="released">released</option><option value="deleted">deleted</option><option value="">any</option>
        </select></label>
        <label>From (UTC) <input type="datetime-local" name="since" value={form.since} onInput={(e) => setForm({ ...form, since: e.currentTarget.value })} /></label>
        <label>To (UTC) <input type="datetime-local" name="until" value={form.until} onInput={(e) => setForm({ ...form, until: e.currentTarget.value })} /></label>
        <button type="submit">Filter</button>
      </form>
      {wanted && query === '?limit=1000' ? <p>The item of message {wanted} · <a href="#/quarantine">all held items</a></p> : null}
      <ErrorLine text={list.error} />
      {list.missing ? <NotAvailableNote what="The quarantine" /> : null}
      {admin && picked.length ? (
        <div class="row">
          <button type="button" onClick={() => bulkRun('Release', 'release')}>Release selected</button>
          <button type="button" onClick={() => bulkRun('Delete', 'delete')}>Delete selected</button>
        </div>
      ) : null}
      {bulk.line}
      <Table label="Quarantined messages" head={[admin ? 'select' : '', 'received', 'sender', 'recipients', 'subject', 'reason', 'state', '']}
        rows={items.map((it) => [
          admin ? <input type="checkbox" aria-label={`select item ${it.id}`} checked={picked.includes(it.id)}
            onChange={(e) => setPicked(e.currentTarget.checked ? [...picked, it.id] : picked.filter((x) => x !== it.id))} /> : '',
          formatTime(it.created_at), it.sender, it.recipients.join(', '), it.subject || '(no subject)', it.reason, it.state,
          <button type="button" onClick={() => setOpen(open === it.id ? null : it.id)}>{open === it.id ? 'Close' : 'Open'}</button>,
        ])} />
      {items.filter((it) => it.id === open).map((it) => (
        <article class="card" aria-label={`Quarantine item ${it.id}`}>
          <h2>{it.subject || '(no subject)'}</h2>
          <p>From {it.sender} · {it.reason} ({it.policy}) · expires {formatTime(it.expires_at)}
            {it.released_to?.length ? ` · released to ${it.released_to.join(', ')}` : ''}</p>
          <PreviewPane item={it} admin={admin} />
          {admin ? <Actions item={it} run={(what, fn) => bulk.run(what, fn).then(reload)} /> : <p class="note">Viewers cannot release or delete.</p>}
        </article>
      ))}
      <h2>Reported false positives</h2>
      <ErrorLine text={reported.error} />
      <Table label="False positives" head={['reported', 'by', 'item', 'sender', 'subject', 'reason', 'note']}
        rows={(reported.data?.items ?? []).map((f) => [formatTime(f.at), f.by, f.id, f.sender, f.subject || '(no subject)', f.reason, f.note])} />
    </section>
  );
}
