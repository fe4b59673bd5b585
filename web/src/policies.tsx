// Policies: read-only views of the effective configuration of transport rules,
// verdict, connection filtering, TLS and partner connectors, Safe Links and
// Safe Attachments (GET /api/v1/policies, secrets hidden) and the rules file;
// reload the rules (a broken file lists its FILE:LINE errors; the previous
// rules stay active) and test a message (.eml upload) over POST /api/v1/rules/reload
// and /api/v1/rules/test.
import { useState } from 'preact/hooks';
import { api, ApiError, Session } from './api';
import { queryString } from './logic';
import { ErrorLine, Table, useApi } from './ui';

type TestResult = {
  outcome: string; reason?: string; smtp_reply?: string; scl: number; recipients: string[];
  matched: { rule: string; priority: number; mode: string; because: string[]; actions: string[]; stopped: boolean }[];
  notes: unknown[]; header_edits: { op: string; name: string; value: string }[];
};

function explain(e: unknown) {
  return (e as Error).message;
}

export function PoliciesPage({ session }: { session: Session }) {
  const [reload, setReload] = useState('');
  const [reloadErrors, setReloadErrors] = useState<string[]>([]);
  const [form, setForm] = useState({ ip: '', mail_from: '', rcpt: '' });
  const [file, setFile] = useState<File | null>(null);
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState('');
  const active = useApi<{ sections: { name: string; toml: string }[]; rules_file: string; rules_text?: string }>('/api/v1/policies');
  const section = (prefix: string) => (active.data?.sections ?? []).filter((s) => s.name === prefix || s.name.startsWith(`${prefix}.`));
  const view = (title: string, prefixes: string[]) => {
    const parts = prefixes.flatMap(section);
    return (
      <details>
        <summary>{title}</summary>
        {parts.length ? parts.map((p) => <pre class="wrap">{p.toml}</pre>) : <p class="note">not configured</p>}
      </details>
    );
  };
  async function doReload() {
    setReload('Reloading…');
    setReloadErrors([]);
    try {
      const r = await api<{ rules: number; loaded_from: string }>('POST', '/api/v1/rules/reload', {});
      setReload(`Reloaded ${r.rules} rule(s) from ${r.loaded_from}`);
    } catch (e) {
      const errors = e instanceof ApiError && Array.isArray(e.body?.errors) ? e.body.errors.map(String) : [];
      setReload(`Reload failed: ${explain(e)}`);
      setReloadErrors(errors);
    }
    active.reload();
  }
  async function doTest(e: Event) {
    e.preventDefault();
    setError('');
    setResult(null);
    if (!file) return setError('Choose a .eml file first.');
    try {
      const raw = await file.text();
      setResult(await api<TestResult>('POST', `/api/v1/rules/test${queryString(form)}`, undefined, raw));
    } catch (err) {
      setError(`Test: ${explain(err)}`);
    }
  }
  return (
    <section aria-labelledby="p-h">
      <h1 id="p-h">Policies</h1>
      <ErrorLine text={active.error} />
      <h2>Active configuration</h2>
      <p class="note">As the gateway runs it (secrets hidden).</p>
      {view('Safe Links policies', ['links'])}
      {view('Safe Attachments policies', ['attachments'])}
      {view('TLS and partner connectors', ['tls'])}
      {view('Connection filtering and spam verdict', ['connection', 'verdict'])}
      <h2>Transport rules</h2>
      {view('Rules settings', ['rules'])}
      <details>
        <summary>Rules file {active.data?.rules_file || '(none configured)'}</summary>
        <pre class="wrap">{active.data?.rules_text ?? ''}</pre>
      </details>
      {session.role === 'admin' ? <button type="button" onClick={doReload}>Reload rules</button> : null}
      {reload ? <p role="status" class={reloadErrors.length ? 'error' : 'ok'}>{reload}</p> : null}
      {reloadErrors.length ? (
        <ul class="errors" aria-label="Rules file errors">{reloadErrors.map((x) => <li>{x}</li>)}</ul>
      ) : null}
      <h2>Test a message</h2>
      <form class="search" onSubmit={doTest} aria-label="Test a message">
        <label>Message (.eml) <input type="file" name="eml" accept=".eml,message/rfc822"
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} /></label>
        <label>Client IP <input name="ip" value={form.ip} onInput={(e) => setForm({ ...form, ip: e.currentTarget.value })} /></label>
        <label>MAIL FROM <input name="mail_from" value={form.mail_from} onInput={(e) => setForm({ ...form, mail_from: e.currentTarget.value })} /></label>
        <label>RCPT TO <input name="rcpt" value={form.rcpt} onInput={(e) => setForm({ ...form, rcpt: e.currentTarget.value })} /></label>
        <button type="submit">Test</button>
      </form>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {result ? (
        <div class="card" aria-label="Test result">
          <p>Outcome: <strong>{result.outcome}</strong>{result.reason ? ` (${result.reason})` : ''} · SCL {result.scl}
            {result.smtp_reply ? ` · reply ${result.smtp_reply}` : ''}</p>
          <Table label="Matched rules" head={['rule', 'priority', 'mode', 'because', 'actions']}
            rows={result.matched.map((m) => [m.rule, m.priority, m.mode, m.because.join('; '), m.actions.join('; ')])} />
          <Table label="Header edits" head={['op', 'name', 'value']} rows={result.header_edits.map((h) => [h.op, h.name, h.value])} />
        </div>
      ) : null}
    </section>
  );
}
