/**
 * The quota's health in words: for each quota at its warning or critical level (or above its limit),
 * what will be refused and the cheapest way out the catalog offers.
 */
import { Alert, Content } from '@patternfly/react-core';
import type { BillingApi } from '../api/client';
import type { Addon, Plan } from '../api/types';
import { money } from './format';
import { HistoryNotice } from './HistoryNotice';
import type { BillingData } from './model';
import { useLoad } from './useLoad';

const CONSEQUENCE: Record<string, string> = {
  cpu: 'new pods that request CPU will be refused',
  memory: 'new pods that request memory will be refused',
  storage: 'new volume claims will be refused',
  pods: 'new pods will be refused',
  services_loadbalancers: 'new LoadBalancer services will be refused',
  public_ipv4: 'new public IPs will be refused',
};
const LABEL: Record<string, string> = {
  cpu: 'CPU',
  memory: 'Memory',
  storage: 'Storage',
  pods: 'Pods',
  services_loadbalancers: 'Load balancers',
  public_ipv4: 'Public IPv4',
};
/** /quota-status overQuota names → the alert's resource names */
const OVER: Record<string, string> = { loadBalancers: 'services_loadbalancers', publicIPv4: 'public_ipv4' };

type AddonResource = 'cpu' | 'memory' | 'storage';
const ADDON_RESOURCES = new Set<string>(['cpu', 'memory', 'storage']);

function addonAdds(addon: Addon, resource: AddonResource): boolean {
  return Number.parseFloat(addon[resource]) > 0;
}

function planAmount(plan: Plan, resource: string): number | null {
  if (resource === 'pods') return plan.pods;
  if (resource === 'services_loadbalancers') return plan.servicesLB ?? null;
  if (resource === 'public_ipv4') return plan.ipv4 ?? null;
  return ADDON_RESOURCES.has(resource) ? plan.resources[resource as AddonResource] : null;
}

/** The cheapest fix the catalog offers: an add-on for cpu, memory and storage, else a bigger plan. */
export function cheapestFix(resource: string, data: BillingData): string {
  const current = data.plans.find((p) => p.id === data.subscription.planId);
  if (ADDON_RESOURCES.has(resource)) {
    const addon = [...data.addons].filter((a) => addonAdds(a, resource as AddonResource)).sort((a, b) => a.price - b.price)[0];
    if (addon) return `add ${addon.displayName} (${money(addon.price, addon.currency)} a month), or free some of it`;
  }
  const have = current ? planAmount(current, resource) : null;
  const bigger = data.plans
    .filter((p) => p.id !== current?.id && (planAmount(p, resource) ?? 0) > (have ?? 0))
    .sort((a, b) => a.price - b.price)[0];
  if (bigger) return `move to ${bigger.displayName} (${money(bigger.price, bigger.currency)} a month), or free some of it`;
  return 'free some of it, or ask your platform administrator for more';
}

/** Read from /quota-status once (its own failure shown here), then as the event stream sends it. */
export function QuotaHealth({ api, data }: { api: BillingApi; data: BillingData }) {
  const [read, retry] = useLoad(() => api.quotaStatus(), 'quota-status');
  const status = data.quotaStatus ?? (read.state === 'done' ? read.value : undefined);
  if (!status) return read.state === 'failed' ? <HistoryNotice what="The quota health" error={read.error} onRetry={retry} /> : null;
  const levels = new Map<string, { level: 'warning' | 'critical'; percent: number | null }>();
  for (const alert of status.alerts) levels.set(alert.resource, { level: alert.level, percent: alert.percent });
  for (const name of status.overQuota) levels.set(OVER[name] ?? name, { level: 'critical', percent: null });
  if (levels.size === 0) return null;
  return (
    <>
      {[...levels.entries()].map(([resource, { level, percent }]) => {
        const label = LABEL[resource] ?? resource;
        const full = level === 'critical';
        const title = percent === null ? `${label} is above its limit` : `${label} at ${String(percent)} % of the quota`;
        return (
          <Alert key={resource} isInline isLiveRegion variant={full ? 'danger' : 'warning'} title={title} data-testid={`quota-health-${resource}`}>
            <Content component="p">
              {full ? 'Now' : 'Soon'} {CONSEQUENCE[resource] ?? 'new workloads will be refused'}. Cheapest fix: {cheapestFix(resource, data)}.
            </Content>
          </Alert>
        );
      })}
    </>
  );
}
