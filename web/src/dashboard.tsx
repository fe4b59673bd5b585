// Dashboard: messages per hour by verdict (uPlot; malware and phishing from
// the quarantine items' reasons) over a chosen range and direction, totals by
// direction and status, quarantine by reason, queue by state, top blocked
// senders and domains, top blocked URLs with their clicks, TLS failures by destination.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ErrorLine, Table, useApi } from './ui';
import { authPassRates, percent, domainOf, HeldItem, HOUR_US, hourlySeries, HourCount, queueByState, QueueMessage, tlsFailuresByDestination, topN, totals, VERDICTS } from './logic';

const COLORS: Record<string, string> = {
  delivered: '#1a7f37', spam: '#9a6700', quarantined: '#8250df', malware: '#a40e26', phishing: '#bc4c00',
  rejected: '#cf222e', failed: '#57606a', pending: '#0969da',
};

function Chart({ x, series }: { x: number[]; series: Record<string, number[]> }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const width = Math.max(280, ref.current.clientWidth);
    const plot = new uPlot(
      {
        width, height: 240, title: 'Messages per hour',
        scales: { x: { time: true } },
        series: [{}, ...VERDICTS.map((v) => ({ label: v, stroke: COLORS[v], width: 2 }))],
      },
      [x, ...VERDICTS.map((v) => series[v])],
      ref.current,
    );
    return () => plot.destroy();
  }, [x, series]);
  return <div ref={ref} class="chart" aria-label="Messages per hour by verdict" role="img" />;
}

export function Dashboard() {
  const [hours, setHours] = useState(24);
  const [direction, setDirection] = useState('all');
  const [now] = useState(() => Math.ceil((Date.now() * 1000) / HOUR_US) * HOUR_US);
  const since = now - hours * HOUR_US;
  const stats = useApi<{ counts: HourCount[] }>(`/api/v1/stats?since=${since}&until=${now}`, []);
  const queue = useApi<{ messages: QueueMessage[] }>('/api/v1/queue');
  const blocked = useApi<{ records: { sender: string; status: string }[] }>(`/api/v1/trace?since=${since}&limit=1000`);
  const clicks = useApi<{ clicks: { url: string; verdict: string; action: string }[] }>(`/api/v1/clicks?since=${since}&limit=1000`);
  const auth = useApi<{ events: { detail: { detail?: string } }[] }>(`/api/v1/events?kind=authentication&since=${since}&until=${now}&limit=5000`);
  // One "results" event per message; the auth filter's other notes (its verdict) are not results.
  const rates = authPassRates((auth.data?.events ?? []).filter((e) => (e.detail as any)?.event === 'results').map((e) => e.detail?.detail ?? ''));
  const held = useApi<{ items: HeldItem[] }>(`/api/v1/quarantine?since=${since}&until=${now}&limit=1000`);
  const counts = stats.data?.counts ?? [];
  const heldItems = held.data?.items ?? [];
  const chart = hourlySeries(counts, since, now, direction, heldItems);
  const sums = totals(counts);
  const blockedRecords = (blocked.data?.records ?? []).filter((r) => ['rejected', 'quarantined', 'filtered_as_spam'].includes(r.status));
  const badClicks = (clicks.data?.clicks ?? []).filter((c) => c.verdict === 'malicious' || c.verdict === 'suspicious');
  const q = queueByState(queue.data?.messages ?? []);
  return (
    <section aria-labelledby="dash-h">
      <h1 id="dash-h">Dashboard</h1>
      <form class="row" onSubmit={(e) => e.preventDefault()}>
        <label>
          Range{' '}
          <select value={hours} onChange={(e) => setHours(Number(e.currentTarget.value))}>
            <option value={24}>last 24 hours</option>
            <option value={72}>last 3 days</option>
            <option value={168}>last 7 days</option>
          </select>
        </label>
        <label>
          Direction{' '}
          <select value={direction} onChange={(e) => setDirection(e.currentTarget.value)}>
            <option value="all">all</option>
            <option value="inbound">inbound</option>
            <option value="outbound">outbound</option>
            <option value="internal">internal</option>
          </select>
        </label>
      </form>
      <ErrorLine text={stats.error} />
      <Chart x={chart.x} series={chart.series} />
      <div class="grid">
        <div>
          <h2>Messages by direction and status</h2>
          <Table label="Totals" head={['direction / status', 'messages']} rows={[...sums.entries()].map(([k, v]) => [k, v])} />
        </div>
        <div>
          <h2>Quarantined by reason</h2>
          <Table label="Quarantined by reason" head={['reason', 'messages']} rows={topN(heldItems, (i) => i.reason, 10)} />
        </div>
        <div>
          <h2>Inbound authentication pass rates</h2>
          <Table label="Authentication pass rates" head={['method', 'pass rate']}
            rows={[['SPF', percent(rates.spf)], ['DKIM', percent(rates.dkim)], ['DMARC', percent(rates.dmarc)]]} />
        </div>
        <div>
          <h2>Queue by state</h2>
          <Table label="Queue" head={['state', 'messages']} rows={Object.entries(q).map(([k, v]) => [k, v])} />
        </div>
        <div>
          <h2>Top blocked senders</h2>
          <Table label="Blocked senders" head={['sender', 'messages']} rows={topN(blockedRecords, (r) => r.sender, 10)} />
        </div>
        <div>
          <h2>Top blocked sender domains</h2>
          <Table label="Blocked domains" head={['domain', 'messages']} rows={topN(blockedRecords, (r) => domainOf(r.sender), 10)} />
        </div>
        <div>
          <h2>Top malicious URLs (clicks)</h2>
          <Table label="Malicious URLs" head={['URL', 'clicks']} rows={topN(badClicks, (c) => c.url, 10)} />
        </div>
        <div>
          <h2>TLS failures by destination</h2>
          <Table label="TLS failures" head={['destination', 'recipients', 'last error']}
            rows={tlsFailuresByDestination(queue.data?.messages ?? []).map(([d, e]) => [d, e.count, e.last])} />
        </div>
      </div>
    </section>
  );
}
