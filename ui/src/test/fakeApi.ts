/**
 * A fake billing API behind a fetch function: the fixture organization (dev/fixtures.json,
 * the same data the dev server serves), real envelopes, and every call recorded so a test
 * can assert what the page asked for.
 */
import fixtures from '../../dev/fixtures.json';
import { BillingApi, type FetchLike } from '../api/client';
import type { BillingFeatures, HistoryPoint, OrganizationSubscription, Provider, SuggestionKind } from '../api/types';
import type { FakeEvents } from './fakeEvents';

export interface Call {
  method: string;
  path: string;
  body: unknown;
  authorization: string | null;
}

type Answer = [status: number, json: unknown];
type Handler = (body: unknown, query: URLSearchParams) => Answer;

const FEATURES: Record<Provider, BillingFeatures> = {
  none: { quotas: true, plans: true, checkout: false, portal: false, webhooks: false, addons: false },
  stripe: { quotas: true, plans: true, checkout: true, portal: true, webhooks: true, addons: true },
  whmcs: { quotas: true, plans: true, checkout: false, portal: false, webhooks: true, addons: false },
};

export const ok = (data: unknown): Answer => [200, { success: true, data }];
export const fail = (status: number, error: string, details: Record<string, unknown> = {}): Answer => [
  status,
  { success: false, error, details, timestamp: '2026-11-29T12:00:00Z' },
];

/** /quota-status of the fixture's organization: enforced, nothing under pressure. */
export const QUOTA_STATUS = {
  quotaEnforced: true, planId: 'scale-pool', mode: 'plan', hrqExists: true, limitRangeExists: true, ready: true,
  reason: 'Applied', message: 'plan scale-pool is enforced', overQuota: [], alerts: [],
};

export function subscriptionFixture(patch: Partial<OrganizationSubscription> = {}): OrganizationSubscription {
  return { ...structuredClone(fixtures.subscription), ...patch };
}

const DURATION = /^([0-9]+)([smhd])$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function durationSeconds(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`fake API: not a duration ${text}`);
  return Number(m[1]) * (UNIT_SECONDS[m[2] ?? ''] ?? 0);
}

interface SeriesModel {
  unit: string;
  now: number;
  perDay: number;
  wiggle: number;
  limit: number;
  days: number;
}

/** `/usage-history` from the fixture's model (a weekly wave on a straight line), ending at its `generatedAt`. */
export function historyFixture(resource: string, range = '7d', step = '1h') {
  const model = (fixtures.history.series as Record<string, SeriesModel | undefined>)[resource];
  if (!model) throw new Error(`fake API: no history of ${resource}`);
  const end = new Date(fixtures.history.generatedAt).getTime() / 1000;
  const [span, every] = [durationSeconds(range), durationSeconds(step)];
  const used: HistoryPoint[] = [];
  const limit: HistoryPoint[] = [];
  for (let t = end - Math.floor(span / every) * every; t <= end; t += every) {
    const daysAgo = (end - t) / 86400;
    if (daysAgo > model.days) continue;
    const value = model.now - model.perDay * daysAgo + model.wiggle * Math.sin((2 * Math.PI * daysAgo) / 7);
    used.push([t, Math.max(0, Math.round(value * 100) / 100)]);
    limit.push([t, model.limit]);
  }
  return { resource, unit: model.unit, range: `${String(span)}s`, step: `${String(every)}s`, used, limit };
}

const CAP_PATH = /^\/project\/([^/]+)\/cap$/;

/** PUT/DELETE /project/{namespace}/cap as the API answers a cap that fits. */
function capAnswer(method: string, path: string, query: URLSearchParams): Handler | undefined {
  if (method !== 'PUT' && method !== 'DELETE') return undefined;
  const namespace = decodeURIComponent(CAP_PATH.exec(path)?.[1] ?? '');
  return (body) => {
    const sent = (method === 'PUT' ? body : null) as Record<string, unknown> | null;
    const field = (k: string) => (sent && k in sent ? sent[k] : null);
    const cap = sent ? { cpu: field('cpu'), memory: field('memory'), storage: field('storage'), pods: field('pods') } : null;
    const dryRun = query.get('dryRun') === 'true';
    return ok({
      namespace,
      cap,
      dryRun,
      changed: true,
      violations: [],
      capsTotal: cap ?? { cpu: null, memory: null, storage: null, pods: null },
      exceedsPlan: [],
      message: `${namespace} ${dryRun ? 'would be' : 'is'} ${cap ? 'capped' : 'not capped'}`,
    });
  };
}

const NO_HISTORY = () => fail(503, 'usage history is not configured (PROMETHEUS_URL is not set)', { feature: 'history' });

export interface FakeOptions {
  provider?: Provider;
  /** `features.history` (a Prometheus behind the API): off by default, as in the API; off, its routes answer 503. */
  history?: boolean;
  /** Which of the fixture's recommendations `/recommendations` answers (default none). */
  advice?: SuggestionKind;
  subscription?: OrganizationSubscription;
  /** "METHOD /path" → answer; replaces the default route. */
  routes?: Record<string, Handler>;
  /** GET /events (without it: 404, and the page polls). */
  events?: FakeEvents;
}

export function fakeBilling(opts: FakeOptions = {}) {
  const provider = opts.provider ?? 'stripe';
  const calls: Call[] = [];
  const defaults: Record<string, Handler> = {
    'GET /config': () => [
      200,
      { success: true, config: { provider, features: { ...FEATURES[provider], history: opts.history === true, notifications: false }, externalBillingUrl: provider === 'whmcs' ? 'https://whmcs.example/clientarea' : null } },
    ],
    'GET /plans': () => ok(fixtures.plans),
    'GET /addons': () => ok(fixtures.addons),
    'GET /organization-subscription': () => ok(opts.subscription ?? subscriptionFixture()),
    'GET /projects': () => ok(fixtures.projects),
    'GET /quota-status': () => ok(QUOTA_STATUS),
    'POST /simulate-downgrade': () => ok({ fits: true, violations: [] }),
    'PUT /organization-subscription': (b) => ok(b),
    'POST /organization-subscription': () => ok({ checkoutUrl: 'https://checkout.example/cs_1', sessionId: 'cs_1' }),
    'DELETE /organization-subscription': () => ok({ status: 'canceling', periodEnd: '2026-12-31T00:00:00Z' }),
    'POST /organization-subscription/addons': (b) => ok(b),
    'POST /customer-portal': () => ok({ url: 'https://portal.example/session' }),
    'GET /verify-checkout': () => ok({ status: 'complete', planId: 'pro-pool', planName: 'Pro Pool' }),
    'GET /usage-history': opts.history
      ? (_b, q) => ok(historyFixture(q.get('resource') ?? 'cpu', q.get('range') ?? '7d', q.get('step') ?? '1h'))
      : NO_HISTORY,
    'GET /forecast': opts.history ? () => ok(fixtures.history.forecast) : NO_HISTORY,
    'GET /recommendations': opts.history ? () => ok(fixtures.history.recommendations[opts.advice ?? 'none']) : NO_HISTORY,
  };
  const routes = { ...defaults, ...opts.routes };
  const fetchFn: FetchLike = (input, init) => {
    const url = new URL(input, 'http://page.test');
    const path = url.pathname.replace(/^\/api\/billing/, '');
    const method = init?.method ?? 'GET';
    const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ method, path, body, authorization: headers.Authorization ?? null });
    const key = `${method} ${path}`;
    if (key === 'GET /events' && opts.events) return Promise.resolve(opts.events.open());
    const handler =
      routes[key] ??
      (method === 'DELETE' && path.startsWith('/organization-subscription/addons/') ? () => ok({}) : undefined) ??
      (CAP_PATH.test(path) ? capAnswer(method, path, url.searchParams) : undefined);
    const [status, json] = handler ? handler(body, url.searchParams) : fail(404, `Route not found: ${key}`);
    return Promise.resolve(new Response(JSON.stringify(json), { status, headers: { 'Content-Type': 'application/json' } }));
  };
  const api = new BillingApi('', () => 'test-token', fetchFn);
  const called = (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path);
  return { api, calls, called, fetchFn };
}
