// The admin console: sign-in, then pages chosen by the URL hash (#/trace,
// #/trace/ID, #/quarantine, #/clicks, #/queue, #/policies). Served by `mailmoat serve`
// under /console/ with CSP default-src 'self'; talks only to the admin API.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, onSessionEnded, Session, setCsrf } from './api';
import { Dashboard } from './dashboard';
import { TracePage, TraceDetail } from './trace';
import { QuarantinePage } from './quarantine';
import { ClicksPage, QueuePage } from './operations';
import { PoliciesPage } from './policies';
import { AttachmentsPage } from './attachments';
import './style.css';

function SignIn({ onSession, ended }: { onSession: (s: Session) => void; ended: string }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  async function submit(e: Event) {
    e.preventDefault();
    setError('');
    try {
      const s = await api<Session>('POST', '/api/v1/session', { user, password });
      onSession(s);
    } catch (err) {
      const a = err as ApiError;
      setError(a.status === 429 ? `Too many failed sign-ins; try again in ${a.retryAfter ?? '?'} s.` : a.message);
    }
  }
  return (
    <main class="signin">
      <h1>mailmoat</h1>
      {ended ? <p class="note" role="status">Your session ended: {ended}.</p> : null}
      <form onSubmit={submit} aria-label="Sign in">
        <label>
          User <input name="user" autocomplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} required />
        </label>
        <label>
          Password{' '}
          <input name="password" type="password" autocomplete="current-password" value={password}
            onInput={(e) => setPassword(e.currentTarget.value)} required />
        </label>
        <button type="submit">Sign in</button>
        {error ? <p class="error" role="alert">{error}</p> : null}
      </form>
    </main>
  );
}

const PAGES: [string, string][] = [
  ['#/', 'Dashboard'],
  ['#/trace', 'Message trace'],
  ['#/quarantine', 'Quarantine'],
  ['#/clicks', 'URL trace'],
  ['#/attachments', 'Attachments'],
  ['#/queue', 'Queue'],
  ['#/policies', 'Policies'],
];

function useHash() {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function Page({ hash, session }: { hash: string; session: Session }) {
  const [path] = hash.slice(1).split('?');
  if (path.startsWith('/trace/')) return <TraceDetail id={decodeURIComponent(path.slice(7))} />;
  if (path === '/trace') return <TracePage />;
  // Keyed by the hash: a link to one message's item starts a fresh page.
  if (path === '/quarantine') return <QuarantinePage key={hash} session={session} />;
  if (path === '/clicks') return <ClicksPage />;
  if (path === '/queue') return <QueuePage session={session} />;
  if (path === '/attachments') return <AttachmentsPage />;
  if (path === '/policies') return <PoliciesPage session={session} />;
  return <Dashboard />;
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [ended, setEnded] = useState('');
  const hash = useHash();
  useEffect(() => {
    onSessionEnded((why) => {
      setCsrf('');
      setEnded(why);
      setSession(null);
    });
    api<Session>('GET', '/api/v1/session')
      .then((s) => {
        setCsrf(s.csrf);
        setSession(s);
      })
      .catch(() => setSession(null));
  }, []);
  if (session === undefined) return <p>Loading…</p>;
  if (session === null)
    return (
      <SignIn
        ended={ended}
        onSession={(s) => {
          setCsrf(s.csrf);
          setEnded('');
          setSession(s);
        }}
      />
    );
  async function signOut() {
    try {
      await api('DELETE', '/api/v1/session');
    } finally {
      setCsrf('');
      setSession(null);
    }
  }
  const current = '#' + hash.slice(1).split('?')[0].replace(/^\/trace\/.*/, '/trace');
  return (
    <>
      <header>
        <span class="brand">mailmoat</span>
        <nav aria-label="Pages">
          {PAGES.map(([href, label]) => (
            <a href={href} aria-current={current === href ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who">
          {session.user} ({session.role}){' '}
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        <Page hash={hash} session={session} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
