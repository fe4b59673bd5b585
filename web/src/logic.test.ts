import { describe, expect, it } from 'vitest';
import {
  domainOf, formatTime, HOUR_US, hourlySeries, inputToMicros, queryString, queueByState, tlsFailuresByDestination, topN, totals, verdictOf,
} from './logic';

const H0 = Date.UTC(2026, 10, 28, 10) * 1000; // 2026-11-28 10:00 UTC in microseconds

describe('hourlySeries', () => {
  it('puts each count in its hour and verdict, filtered by direction', () => {
    const counts = [
      { hour: H0, direction: 'inbound', status: 'delivered', count: 3 },
      { hour: H0, direction: 'inbound', status: 'quarantined', count: 1 },
      { hour: H0 + HOUR_US, direction: 'outbound', status: 'delivered', count: 2 },
      { hour: H0 + 5 * HOUR_US, direction: 'inbound', status: 'rejected', count: 9 }, // outside the range
    ];
    const all = hourlySeries(counts, H0, H0 + 3 * HOUR_US, 'all');
    expect(all.x).toEqual([H0 / 1e6, (H0 + HOUR_US) / 1e6, (H0 + 2 * HOUR_US) / 1e6]);
    expect(all.series.delivered).toEqual([3, 2, 0]);
    expect(all.series.quarantined).toEqual([1, 0, 0]);
    expect(all.series.rejected).toEqual([0, 0, 0]);
    const inbound = hourlySeries(counts, H0, H0 + 3 * HOUR_US, 'inbound');
    expect(inbound.series.delivered).toEqual([3, 0, 0]);
  });
  it('moves quarantined malware and phishing recipients to their own series', () => {
    const counts = [
      { hour: H0, direction: 'inbound', status: 'quarantined', count: 4 },
      { hour: H0 + HOUR_US, direction: 'inbound', status: 'quarantined', count: 1 },
    ];
    const held = [
      { created_at: H0 + 60e6, reason: 'malware', recipients: ['a@x.test', 'b@x.test'] },
      { created_at: H0 + 120e6, reason: 'rule', recipients: ['c@x.test'] },
      { created_at: H0 + HOUR_US + 5, reason: 'phish', recipients: ['d@x.test'] },
      { created_at: H0 + 9 * HOUR_US, reason: 'malware', recipients: ['e@x.test'] }, // outside the range
    ];
    const s = hourlySeries(counts, H0, H0 + 2 * HOUR_US, 'all', held).series;
    expect(s.quarantined).toEqual([2, 0]);
    expect(s.malware).toEqual([2, 0]);
    expect(s.phishing).toEqual([0, 1]);
    // Outbound mail is never split by quarantine reasons.
    expect(hourlySeries(counts, H0, H0 + 2 * HOUR_US, 'outbound', held).series.malware).toEqual([0, 0]);
  });
  it('maps trace statuses to dashboard verdicts', () => {
    expect(verdictOf('filtered_as_spam')).toBe('spam');
    expect(verdictOf('expanded')).toBe('delivered');
    expect(verdictOf('deferred')).toBe('pending');
  });
});

describe('tables', () => {
  it('totals by direction and status', () => {
    const t = totals([
      { hour: H0, direction: 'inbound', status: 'delivered', count: 3 },
      { hour: H0 + HOUR_US, direction: 'inbound', status: 'delivered', count: 4 },
    ]);
    expect(t.get('inbound/delivered')).toBe(7);
  });
  it('topN counts, sorts and cuts; empty keys are skipped', () => {
    const rows = ['a@x.test', 'b@y.test', 'a@x.test', '', 'c@x.test'];
    expect(topN(rows, (r) => r, 2)).toEqual([['a@x.test', 2], ['b@y.test', 1]]);
    expect(topN(rows, domainOf, 5)).toEqual([['x.test', 3], ['y.test', 1]]);
  });
  it('groups the queue by state and TLS failures by destination', () => {
    const q = [
      { id: '1', state: 'deferred', recipients: [{ address: 'a@tls.test', status: 'pending', attempts: 2, last_reply: 'STARTTLS required by policy' }] },
      { id: '2', state: 'deferred', recipients: [{ address: 'b@tls.test', status: 'pending', attempts: 1, last_reply: 'TLS handshake failed' },
        { address: 'c@other.test', status: 'pending', attempts: 1, last_reply: '451 try later' }] },
      { id: '3', state: 'held', recipients: [] },
    ];
    expect(queueByState(q)).toEqual({ active: 0, deferred: 2, held: 1 });
    const tls = tlsFailuresByDestination(q);
    expect(tls).toHaveLength(1);
    expect(tls[0][0]).toBe('tls.test');
    expect(tls[0][1].count).toBe(2);
    expect(tls[0][1].ids).toEqual(['1', '2']);
  });
  it('trusts the queue\'s tls_failure mark over the wording of the reply', () => {
    const q = [
      { id: '1', state: 'deferred', recipients: [
        { address: 'a@strict.test', status: 'pending', attempts: 1, last_reply: 'next hop does not offer STARTTLS', tls_failure: true },
        { address: 'b@plain.test', status: 'pending', attempts: 1, last_reply: '451 4.3.0 TLS cache busy', tls_failure: false },
        { address: 'c@done.test', status: 'delivered', attempts: 1, last_reply: '250 ok', tls_failure: true }] },
    ];
    expect(tlsFailuresByDestination(q).map(([d, e]) => [d, e.count])).toEqual([['strict.test', 1]]);
  });
});

describe('forms', () => {
  it('leaves empty fields out of the query and encodes the rest', () => {
    expect(queryString({ sender: '', recipient: '*@example.com', limit: 25 })).toBe('?recipient=*%40example.com&limit=25');
    expect(queryString({ a: '' })).toBe('');
  });
  it('reads datetime-local values as UTC', () => {
    expect(inputToMicros('2026-11-28T10:00')).toBe(H0);
    expect(inputToMicros('')).toBeUndefined();
    expect(inputToMicros('nonsense')).toBeUndefined();
  });
  it('formats microseconds as UTC', () => {
    expect(formatTime(H0)).toBe('2026-11-28 10:00:00 UTC');
    expect(formatTime(0)).toBe('');
  });
});

import { authPassRates, parseKv, percent } from './logic';

describe('trace details', () => {
  it('parses key=value details with quoted values', () => {
    const kv = parseKv('name="my file.pdf" declared_type=application/pdf size=12 verdict=clean reasons="a; b" duration_ms=7');
    expect(kv).toMatchObject({ name: 'my file.pdf', declared_type: 'application/pdf', size: '12', verdict: 'clean', reasons: 'a; b', duration_ms: '7' });
  });
  it('computes SPF/DKIM/DMARC pass rates; a missing method did not pass', () => {
    const r = authPassRates(['spf=pass dkim=pass dmarc=pass', 'spf=fail dmarc=none action=none', 'spf=pass dkim=fail dmarc=fail']);
    expect(r.spf).toEqual({ pass: 2, total: 3 });
    expect(r.dkim).toEqual({ pass: 1, total: 3 });
    expect(r.dmarc).toEqual({ pass: 1, total: 3 });
    expect(percent(r.spf)).toBe('67% (2/3)');
    expect(percent({ pass: 0, total: 0 })).toBe('no mail');
  });
});
