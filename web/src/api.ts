// The admin API as the console uses it: same-origin fetch with the session
// cookie, the session's CSRF token on every state-changing request, and a
// distinct NotAvailable for routes this gateway does not serve (404 from the
// router), so pages can say so instead of failing. A 401 on any route but the
// session's own means the session expired or was ended (password change,
// account deleted): the app is told, and shows the sign-in form again.
export class ApiError extends Error {
  constructor(public status: number, message: string, public retryAfter?: number, public body?: any) {
    super(message);
  }
}
export class NotAvailable extends Error {}

let csrf = '';
export function setCsrf(token: string) {
  csrf = token;
}
let sessionEnded: (why: string) => void = () => {};
export function onSessionEnded(fn: (why: string) => void) {
  sessionEnded = fn;
}

export async function api<T = any>(method: string, path: string, body?: unknown, raw?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
  let payload: string | undefined;
  if (raw !== undefined) {
    payload = raw;
    headers['Content-Type'] = 'message/rfc822';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await r.text();
  let j: any = null;
  try {
    j = text ? JSON.parse(text) : null;
  } catch {
    j = null;
  }
  if (r.status === 404 && j && (j.error === 'not found' || j.error === 'method not allowed')) {
    throw new NotAvailable(`${method} ${path} is not available on this gateway`);
  }
  if (r.status === 401 && !path.startsWith('/api/v1/session')) sessionEnded((j && j.error) || 'session expired');
  if (!r.ok) {
    const retry = Number(r.headers.get('Retry-After') ?? '') || undefined;
    throw new ApiError(r.status, (j && j.error) || `HTTP ${r.status}`, retry, j);
  }
  return j as T;
}

export type Session = { user: string; role: 'admin' | 'viewer'; csrf: string; expires_at: number };
