/**
 * The billing API client: one place that adds the bearer token, unwraps the
 * `{success, data}` envelope and turns every failure into an ApiError whose message
 * is the envelope's `error` (or says what went wrong when there is no envelope).
 */
import type {
  Addon,
  BillingConfig,
  CancelResult,
  CapChange,
  CapRequest,
  CheckoutStart,
  Forecast,
  HistoryResource,
  OrganizationSubscription,
  Plan,
  Project,
  QuotaStatus,
  Recommendations,
  SimulateResult,
  AddonEntry,
  UsageHistory,
  VerifyCheckout,
} from './types';

export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when the API could not be reached. */
    readonly status: number,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

interface Envelope {
  success?: boolean;
  data?: unknown;
  config?: unknown;
  error?: unknown;
  details?: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class BillingApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: () => string | null,
    private readonly fetchFn: FetchLike = (input, init) => fetch(input, init),
  ) {}

  /** Calls `/api/billing<path>` and returns the envelope's payload (`data`, or `config`). */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}/api/billing${path}`;
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await this.fetchFn(url, init);
    } catch {
      throw new ApiError(`Cannot reach the billing API (${method} ${url})`, 0);
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      throw new ApiError(`The billing API answered HTTP ${res.status} without JSON (${method} ${path})`, res.status);
    }
    const env: Envelope = isRecord(json) ? json : {};
    if (!res.ok || env.success !== true) {
      const message = typeof env.error === 'string' && env.error ? env.error : `HTTP ${res.status} from ${method} ${path}`;
      throw new ApiError(message, res.ok ? 500 : res.status, isRecord(env.details) ? env.details : {});
    }
    return (env.data ?? env.config) as T;
  }

  /** Opens `/api/billing/events` (token in the header, which EventSource cannot send): the stream's body. */
  async openEvents(signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await this.fetchFn(`${this.baseUrl}/api/billing/events`, { method: 'GET', headers, signal, cache: 'no-store' });
    } catch {
      throw new ApiError('Cannot reach the billing API (GET /events)', 0);
    }
    if (res.ok && res.body && (res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) return res.body;
    let message = `HTTP ${res.status} from GET /events`;
    try {
      const env: unknown = await res.json();
      if (isRecord(env) && typeof env.error === 'string' && env.error) message = env.error;
    } catch {
      // no envelope: the status says it
    }
    throw new ApiError(message, res.ok ? 500 : res.status);
  }

  config(): Promise<BillingConfig> {
    return this.call('GET', '/config');
  }
  plans(): Promise<Plan[]> {
    return this.call('GET', '/plans');
  }
  addons(): Promise<Addon[]> {
    return this.call('GET', '/addons');
  }
  subscription(): Promise<OrganizationSubscription> {
    return this.call('GET', '/organization-subscription');
  }
  projects(): Promise<Project[]> {
    return this.call('GET', '/projects');
  }
  quotaStatus(): Promise<QuotaStatus> {
    return this.call('GET', '/quota-status');
  }
  simulateDowngrade(planId: string, addons: AddonEntry[]): Promise<SimulateResult> {
    return this.call('POST', '/simulate-downgrade', { planId, addons });
  }
  startCheckout(planId: string, addons: AddonEntry[]): Promise<CheckoutStart> {
    return this.call('POST', '/organization-subscription', { planId, addons });
  }
  /** `overBudget`: go ahead although the monthly cost would pass the budget (else 409 BUDGET_EXCEEDED). */
  changePlan(planId: string, overBudget = false): Promise<unknown> {
    return this.call('PUT', '/organization-subscription', overBudget ? { planId, overBudget } : { planId });
  }
  cancel(): Promise<CancelResult> {
    return this.call('DELETE', '/organization-subscription');
  }
  addAddon(addonId: string, overBudget = false): Promise<unknown> {
    return this.call('POST', '/organization-subscription/addons', overBudget ? { addonId, overBudget } : { addonId });
  }
  removeAddon(addonId: string): Promise<unknown> {
    return this.call('DELETE', `/organization-subscription/addons/${encodeURIComponent(addonId)}`);
  }
  customerPortal(): Promise<{ url: string }> {
    return this.call('POST', '/customer-portal');
  }
  verifyCheckout(sessionId: string): Promise<VerifyCheckout> {
    return this.call('GET', `/verify-checkout?sessionId=${encodeURIComponent(sessionId)}`);
  }
  usageHistory(resource: HistoryResource, range: string, step: string): Promise<UsageHistory> {
    const query = new URLSearchParams({ resource, range, step });
    return this.call('GET', `/usage-history?${query.toString()}`);
  }
  forecast(): Promise<Forecast> {
    return this.call('GET', '/forecast');
  }
  recommendations(): Promise<Recommendations> {
    return this.call('GET', '/recommendations');
  }
  /** Sets a project's cap; with `dryRun`, only says what it would do (409 with the violations, or the answer). */
  setCap(namespace: string, cap: CapRequest, dryRun = false): Promise<CapChange> {
    return this.call('PUT', `/project/${encodeURIComponent(namespace)}/cap${dryRun ? '?dryRun=true' : ''}`, cap);
  }
  removeCap(namespace: string): Promise<CapChange> {
    return this.call('DELETE', `/project/${encodeURIComponent(namespace)}/cap`);
  }
}
