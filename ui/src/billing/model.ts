/** Facts the tabs derive from the API's answers: current plan, live subscription, costs. */
import type { Addon, AddonEntry, BillingConfig, OrganizationSubscription, Plan, QuotaStatus, Resources } from '../api/types';
import { parseQuantity } from './format';

export interface BillingData {
  config: BillingConfig;
  subscription: OrganizationSubscription;
  plans: Plan[];
  addons: Addon[];
  /** /quota-status as the event stream last sent it (absent until it has). */
  quotaStatus?: QuotaStatus;
  /** Why /plans or /addons could not be read (then both lists are empty): the tabs that sell say so,
   * the rest of the page is shown. */
  catalogError?: unknown;
}

const LIVE = new Set(['active', 'trialing', 'past_due', 'canceling']);

/** A paid subscription the provider knows about: plan changes go through it, not a new checkout. */
export function hasLiveSubscription(sub: OrganizationSubscription): boolean {
  return Boolean(sub.providerSubscriptionId) && LIVE.has(sub.status ?? '');
}

export function currentPlan(data: BillingData): Plan | undefined {
  return data.plans.find((p) => p.id === data.subscription.planId);
}

export function addonQuantity(sub: OrganizationSubscription, addonId: string): number {
  return sub.addons.filter((a) => a.addonId === addonId).reduce((n, a) => n + a.quantity, 0);
}

export function withAddonDelta(entries: AddonEntry[], addonId: string, delta: number): AddonEntry[] {
  const out = entries.map((a) => ({ ...a }));
  const found = out.find((a) => a.addonId === addonId);
  if (found) found.quantity += delta;
  else if (delta > 0) out.push({ addonId, quantity: delta });
  return out.filter((a) => a.quantity > 0);
}

/** Plan + add-ons per month, priced from the catalog (what a change would cost). */
export function monthlyTotal(plan: Plan | undefined, entries: AddonEntry[], addons: Addon[]): number {
  const addonCost = entries.reduce((sum, e) => sum + (addons.find((a) => a.id === e.addonId)?.price ?? 0) * e.quantity, 0);
  return (plan?.price ?? 0) + addonCost;
}

/** What plan + add-ons sell, in cores / GiB, pods and public IPv4. */
export interface Sold extends Resources {
  pods: number;
  ipv4: number;
}

export function sold(plan: Plan | undefined, entries: AddonEntry[], addons: Addon[]): Sold | null {
  if (!plan) return null;
  const total: Sold = { ...plan.resources, pods: plan.pods, ipv4: plan.ipv4 ?? 0 };
  for (const e of entries) {
    const a = addons.find((x) => x.id === e.addonId);
    if (!a) continue;
    total.cpu += (parseQuantity(a.cpu) ?? 0) * e.quantity;
    total.memory += ((parseQuantity(a.memory) ?? 0) / 2 ** 30) * e.quantity;
    total.storage += ((parseQuantity(a.storage) ?? 0) / 2 ** 30) * e.quantity;
  }
  return total;
}

/** True when some resource gets smaller (or there is no current quota to compare with). */
export function shrinks(before: Sold | null, after: Sold | null): boolean {
  if (!before || !after) return true;
  return (['cpu', 'memory', 'storage', 'pods', 'ipv4'] as const).some((k) => after[k] < before[k]);
}
