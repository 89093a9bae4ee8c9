import type { components } from './generated/schema';

/** The API's models, generated from its OpenAPI document (`make api-types`; `make lint` checks they are current). */
export type Schemas = components['schemas'];
/** The event stream's events: one field per event name, its data as the route answers it. */
export type LiveEvents = Schemas['LiveEvents'];
export type QuotaStatus = Schemas['QuotaStatus'];

/** The billing API's JSON shapes (the `data` inside the success envelope). */

export type Provider = 'none' | 'stripe' | 'whmcs';

export interface BillingFeatures {
  quotas: boolean;
  plans: boolean;
  checkout: boolean;
  portal: boolean;
  webhooks: boolean;
  addons: boolean;
  /** Usage history, forecast and advice: true only when the API reads a Prometheus. */
  history?: boolean;
}

export interface BillingConfig {
  provider: Provider;
  features: BillingFeatures;
  externalBillingUrl?: string | null;
}

export interface Plan {
  id: string;
  displayName: string;
  description?: string | null;
  price: number;
  currency: string;
  recommended?: boolean;
  objectStorage?: string | number | null;
  ipv4?: number | null;
  features?: string[];
  pods: number;
  servicesLB?: number;
  burstRatio?: number;
  /** cores / GiB */
  resources: Resources;
}

export interface Addon {
  id: string;
  displayName: string;
  description?: string | null;
  price: number;
  currency: string;
  /** Kubernetes quantities ("2", "4Gi", "20Gi"). */
  cpu: string;
  memory: string;
  storage: string;
}

export interface Resources {
  cpu: number;
  memory: number;
  storage: number;
}

export interface AddonEntry {
  addonId: string;
  quantity: number;
}

export interface UsageItem {
  used: number;
  limit: number | null;
}

export type UsageKey = 'cpu' | 'memory' | 'storage' | 'pods' | 'publicIPv4';

export type SubscriptionStatus =
  | 'active'
  | 'trialing'
  | 'canceling'
  | 'past_due'
  | 'suspended'
  | 'canceled';

export interface OrganizationSubscription {
  organization: string;
  planId: string | null;
  planName: string | null;
  /** A SubscriptionStatus as the annotation holds it (an unknown value is shown as is). */
  status: string | null;
  /** "plan", "floor" or "none": what the operator enforces. */
  mode?: string;
  ready?: boolean;
  since?: string | null;
  providerSubscriptionId?: string | null;
  providerCustomerId?: string | null;
  /** The end of the period paid for (RFC 3339) while a subscription runs, when the provider said it. */
  periodEnd?: string | null;
  /** The end of the grace period (RFC 3339) while suspended: then the subscription is canceled. */
  graceEndsAt?: string | null;
  addons: AddonEntry[];
  resources?: Resources | null;
  monthlyCost?: { plan: number; addons: number; total: number; currency: string } | null;
  usage?: Partial<Record<UsageKey, UsageItem>> | null;
  /** True while the operator has not yet enforced the current plan, add-ons or subscription. */
  pending?: boolean;
  /** The limits the pending change will give (people's units; null: no limit); null when nothing is pending. */
  pendingLimit?: Partial<Record<UsageKey, number | null>> | null;
  /** The end of the trial (RFC 3339) while the organization is trialing. */
  trialEndsAt?: string | null;
}

export interface Violation {
  resource: string;
  used: number | string;
  newLimit: number | string;
}

export interface SimulateResult {
  fits: boolean;
  violations: Violation[];
}

export type ProjectUsageValue = number | string | { used: number | string; limit?: number | string | null };

export interface Project {
  namespace: string;
  organization: string;
  usage?: { cpu?: ProjectUsageValue; memory?: ProjectUsageValue; storage?: ProjectUsageValue; pods?: ProjectUsageValue } | null;
  /** The project's cap (null: none). */
  cap?: CapValues | null;
  /** Usage as a fraction (0-1) of the organization's enforced quota; null where there is none. */
  share?: ProjectShare | null;
}

/** A project cap: Kubernetes quantities as strings ("2", "500m", "4Gi"), pods a number; null caps nothing. */
export interface CapValues {
  cpu: string | null;
  memory: string | null;
  storage: string | null;
  pods: number | null;
}

export interface ProjectShare {
  cpu: number | null;
  memory: number | null;
  storage: number | null;
  pods: number | null;
}

/** What a cap leaves above it: the pods (or, for storage, claims) it would not have let in. */
export interface CapViolation {
  resource: string;
  used: string;
  cap: string;
  pods: string[];
  claims: string[];
}

export interface PlanExcess {
  resource: string;
  capsTotal: string;
  quota: string;
}

/** The answer of PUT/DELETE /project/{namespace}/cap (with dryRun: what it would do). */
export interface CapChange {
  namespace: string;
  cap: CapValues | null;
  dryRun: boolean;
  changed: boolean;
  violations: CapViolation[];
  capsTotal: CapValues;
  exceedsPlan: PlanExcess[];
  message: string;
}

/** The body of PUT /project/{namespace}/cap: the fields to cap (at least one). `pods` is a whole
 * number; anything else typed there is sent as written, for the API to name the problem. */
export interface CapRequest {
  cpu?: string;
  memory?: string;
  storage?: string;
  pods?: number | string;
  belowUsage?: boolean;
}

export interface CheckoutStart {
  checkoutUrl: string;
  sessionId: string;
}

export interface VerifyCheckout {
  /** "complete" once paid; other Stripe session statuses otherwise. */
  status?: string;
  complete?: boolean;
  planId?: string | null;
  planName?: string | null;
}

export interface CancelResult {
  status?: string;
  periodEnd?: string | null;
}

/** The resources with usage history, as `/usage-history?resource=` names them. */
export type HistoryResource = 'cpu' | 'memory' | 'storage' | 'pods' | 'services_loadbalancers' | 'public_ipv4';

/** [unix seconds, value in `unit`] */
export type HistoryPoint = [number, number];

export interface UsageHistory {
  resource: HistoryResource;
  /** "cores", "GiB" or "count" */
  unit: string;
  range: string;
  step: string;
  used: HistoryPoint[];
  limit: HistoryPoint[];
}

export interface ResourceForecast {
  unit: string;
  used: number;
  limit: number | null;
  ratePerDay: number | null;
  /** RFC 3339; equal to `generatedAt` when the quota is already full; null when it does not run out within a year. */
  runsOutAt: string | null;
  band: { earliest: string | null; latest: string | null };
  fit: number | null;
  enoughHistory: boolean;
}

export interface Forecast {
  generatedAt: string;
  method: string;
  windowDays: number;
  resources: Partial<Record<HistoryResource, ResourceForecast>>;
}

export type SuggestionKind = 'none' | 'downgrade' | 'upgrade' | 'addon';

export interface Suggestion {
  kind: SuggestionKind;
  planId: string | null;
  /** Every add-on the organization would hold, the current ones included. */
  addons: AddonEntry[];
  /** Suggested minus current monthly cost, in major units. */
  monthlyCostDelta: number;
  reason: string;
  simulate: SimulateResult | null;
}

export interface Recommendations {
  /** The money of the answer is in `currency`: the organization's, when its plan is priced in it. */
  current: { planId: string | null; monthlyCost: number | null; currency: string | null };
  suggestion: Suggestion;
}
