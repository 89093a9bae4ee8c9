/** The billing API's JSON shapes (the `data` inside the success envelope). */

export type Provider = 'none' | 'stripe' | 'whmcs';

export interface BillingFeatures {
  quotas: boolean;
  plans: boolean;
  checkout: boolean;
  portal: boolean;
  webhooks: boolean;
  addons: boolean;
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
  /** When a canceling subscription ends (RFC 3339), when the API knows it. */
  periodEnd?: string | null;
  addons: AddonEntry[];
  resources?: Resources | null;
  monthlyCost?: { plan: number; addons: number; total: number; currency: string } | null;
  usage?: Partial<Record<UsageKey, UsageItem>> | null;
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
  usage?: { cpu?: ProjectUsageValue; memory?: ProjectUsageValue; pods?: ProjectUsageValue } | null;
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
