/** What an alert means in words: the resource, what a full quota refuses, and the fix to offer. */
import type { Suggestion } from '../api/types';
import type { QuotaAlert } from './types';

/** The series' resource names (SPEC §9) as people read them. */
export const ALERT_RESOURCES: Record<string, string> = {
  cpu: 'CPU',
  memory: 'Memory',
  storage: 'Storage',
  pods: 'Pods',
  services_loadbalancers: 'Load balancers',
  public_ipv4: 'Public IPv4',
};

/** What a full quota refuses, as the operator's Events and the e-mails say it. */
export const CONSEQUENCES: Record<string, string> = {
  cpu: 'new pods that request CPU will be refused',
  memory: 'new pods that request memory will be refused',
  storage: 'new volume claims will be refused',
  pods: 'no more pods can be created',
  services_loadbalancers: 'no more LoadBalancer services can be created',
  public_ipv4: 'no more public IPv4 addresses can be allocated',
};

export function resourceName(resource: string): string {
  return ALERT_RESOURCES[resource] ?? resource;
}

/** The alert's consequence as a sentence: already true at critical, ahead at warning. */
export function consequence(alert: QuotaAlert): string {
  const what = CONSEQUENCES[alert.resource] ?? `new ${resourceName(alert.resource)} requests will be refused`;
  return alert.level === 'critical' ? `The quota is full: ${what}.` : `When the quota is full, ${what}.`;
}

export function percentText(percent: number): string {
  return `${Number.isInteger(percent) ? String(percent) : percent.toFixed(1)} %`;
}

/** Worst first, then by resource name, so the list does not reorder between reads. */
export function ordered(alerts: QuotaAlert[]): QuotaAlert[] {
  const rank = (a: QuotaAlert) => (a.level === 'critical' ? 0 : 1);
  return [...alerts].sort((a, b) => rank(a) - rank(b) || b.percent - a.percent || a.resource.localeCompare(b.resource));
}

/** Whether the advice raises the quota (the fix of a quota alert); a downgrade or "none" does not. */
export function raisesQuota(s: Suggestion | null | undefined): s is Suggestion {
  return s?.kind === 'upgrade' || s?.kind === 'addon';
}

/** When and how long: "3 Dec 2026, 14:05" in the reader's language. */
export function since(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const lang = (typeof navigator !== 'undefined' && navigator.language) || 'en-US';
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
