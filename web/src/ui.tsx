// Small shared pieces of the console's pages. Every piece of message data is
// rendered as a JSX text child (escaped by Preact), never as HTML.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, NotAvailable } from './api';

export function useApi<T>(path: string | null, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string>('');
  const [missing, setMissing] = useState(false);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    setError('');
    api<T>('GET', path)
      .then((d) => live && setData(d))
      .catch((e) => {
        if (!live) return;
        if (e instanceof NotAvailable) setMissing(true);
        else setError(e instanceof ApiError ? e.message : String(e));
      });
    return () => {
      live = false;
    };
  }, [path, tick, ...deps]);
  return { data, error, missing, reload: () => setTick((t) => t + 1) };
}

export function ErrorLine({ text }: { text: string }) {
  return text ? (
    <p class="error" role="alert">
      {text}
    </p>
  ) : null;
}

export function NotAvailableNote({ what }: { what: string }) {
  return <p class="note">{what} is not available on this gateway.</p>;
}

export function Table({ head, rows, label }: { head: string[]; rows: (string | number | preact.JSX.Element)[][]; label: string }) {
  return (
    <div class="table-wrap" tabIndex={0} aria-label={label}>
      <table>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={head.length}>nothing</td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr>
                {r.map((c) => (
                  <td>{c}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

// Runs an action, reporting its outcome in a status line: "WHAT: done", or
// "WHAT: TEXT" when the action returns a string describing what it did.
export function useAction() {
  const [status, setStatus] = useState('');
  const [failed, setFailed] = useState(false);
  async function run(what: string, fn: () => Promise<unknown>) {
    setStatus(`${what}…`);
    setFailed(false);
    try {
      const outcome = await fn();
      setStatus(`${what}: ${typeof outcome === 'string' ? outcome : 'done'}`);
    } catch (e) {
      setFailed(true);
      setStatus(e instanceof NotAvailable ? `${what}: not available on this gateway` : `${what}: ${(e as Error).message}`);
    }
  }
  const line = status ? (
    <p class={failed ? 'error' : 'ok'} role="status">
      {status}
    </p>
  ) : null;
  return { run, line };
}
