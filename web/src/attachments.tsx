// Attachments: every attachment the Safe Attachments filter looked at, with
// its verdict and reasons, declared and true type, size and analysis time,
// from GET /api/v1/events?kind=attachment; filter by verdict.
import { useState } from 'preact/hooks';
import { ErrorLine, Table, useApi } from './ui';
import { formatTime, HOUR_US, parseKv, topN } from './logic';

type Ev = { trace_id: string; at: number; recipient: string; detail: { detail?: string } };

export function AttachmentsPage() {
  const [hours, setHours] = useState(24);
  const [verdict, setVerdict] = useState('');
  const [now] = useState(() => Date.now() * 1000);
  const list = useApi<{ events: Ev[] }>(`/api/v1/events?kind=attachment&since=${now - hours * HOUR_US}&until=${now + 1}&limit=1000`);
  const rows = (list.data?.events ?? []).map((e) => ({ ...e, kv: parseKv(e.detail?.detail ?? '') }));
  const shown = rows.filter((r) => !verdict || r.kv.verdict === verdict);
  return (
    <section aria-labelledby="a-h">
      <h1 id="a-h">Attachments</h1>
      <form class="row" onSubmit={(e) => e.preventDefault()}>
        <label>Range <select value={hours} onChange={(e) => setHours(Number(e.currentTarget.value))}>
          <option value={24}>last 24 hours</option><option value={168}>last 7 days</option><option value={720}>last 30 days</option>
        </select></label>
        <label>Verdict <select value={verdict} onChange={(e) => setVerdict(e.currentTarget.value)}>
          <option value="">any</option>
          {[...new Set(rows.map((r) => r.kv.verdict).filter(Boolean))].map((v) => <option value={v}>{v}</option>)}
        </select></label>
      </form>
      <ErrorLine text={list.error} />
      <div class="grid">
        <div><h2>By verdict</h2><Table label="By verdict" head={['verdict', 'attachments']} rows={topN(rows, (r) => r.kv.verdict, 10)} /></div>
        <div><h2>By true type</h2><Table label="By type" head={['type', 'attachments']} rows={topN(rows, (r) => r.kv.true_type, 10)} /></div>
      </div>
      <h2>Attachments</h2>
      <Table label="Attachments" head={['time', 'name', 'declared / true type', 'size', 'verdict', 'reasons', 'ms', 'message']}
        rows={shown.map((r) => [
          formatTime(r.at), r.kv.name ?? '', `${r.kv.declared_type ?? ''} / ${r.kv.true_type ?? ''}`, r.kv.size ?? '',
          r.kv.verdict ?? '', r.kv.reasons ?? '', r.kv.duration_ms ?? '',
          <a href={`#/trace/${encodeURIComponent(r.trace_id)}`}>timeline</a>,
        ])} />
    </section>
  );
}
