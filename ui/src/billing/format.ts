/** How the page writes money, amounts, dates and usage levels. */
import type { UsageItem } from '../api/types';

/** The reader's language as the browser reports it (jsdom: en-US), for every Intl format. */
const locale = (): string => (typeof navigator !== 'undefined' && navigator.language) || 'en-US';

/**
 * Money in its currency: an amount with a fraction has the currency's own decimals, as Intl knows
 * them (JPY 0, EUR 2 `€9.50`, KWD 3 `KWD 9.005`); a whole amount is written without them (`€158`).
 */
export function money(amount: number, currency: string): string {
  try {
    const whole = Number.isInteger(amount) ? { minimumFractionDigits: 0, maximumFractionDigits: 0 } : {};
    return new Intl.NumberFormat(locale(), { style: 'currency', currency: currency || 'USD', ...whole }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}

/** A number for people: integers as they are, others with one decimal. */
export function amount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export function date(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(d);
}

export type UsageLevel = 'success' | 'warning' | 'danger';

/** Below 75 % fine, up to 90 % a warning, above that danger. */
export function usageLevel(percent: number): UsageLevel {
  if (percent < 75) return 'success';
  if (percent <= 90) return 'warning';
  return 'danger';
}

export function usagePercent(item: UsageItem): number | null {
  if (item.limit === null || item.limit <= 0) {
    return item.limit === 0 && item.used > 0 ? 100 : item.limit === 0 ? 0 : null;
  }
  return Math.round((item.used / item.limit) * 100);
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes quantity as a plain number of base units (cores, bytes); null when it is not one. */
export function parseQuantity(q: string | number | null | undefined): number | null {
  if (q === null || q === undefined) return null;
  if (typeof q === 'number') return q;
  const m = /^([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)$/.exec(q.trim());
  if (!m) return null;
  const value = Number(m[1]);
  const suffix = m[2] ?? '';
  const factor = BINARY[suffix] ?? DECIMAL[suffix];
  return factor === undefined ? null : value * factor;
}

/** "4Gi" → "4 Gi", "512Mi" → "0.5 Gi"; a plain number of GiB as is. */
export function gib(q: string | number | null | undefined): string {
  if (typeof q === 'number') return `${amount(q)} Gi`;
  const bytes = parseQuantity(q);
  if (bytes === null) return q ?? '';
  return `${amount(bytes / 2 ** 30)} Gi`;
}

export function cores(q: string | number | null | undefined): string {
  const n = parseQuantity(q);
  if (n === null) return typeof q === 'string' ? q : '';
  return `${amount(n)} ${n === 1 ? 'core' : 'cores'}`;
}

export const RESOURCE_NAMES: Record<string, string> = {
  cpu: 'CPU',
  'requests.cpu': 'CPU',
  'limits.cpu': 'CPU limit',
  memory: 'Memory',
  'requests.memory': 'Memory',
  'limits.memory': 'Memory limit',
  storage: 'Storage',
  'requests.storage': 'Storage',
  pods: 'Pods',
  publicIPv4: 'Public IPv4',
  'services.loadbalancers': 'Load balancers',
  loadBalancers: 'Load balancers',
};

export const RESOURCE_UNITS: Record<string, string> = {
  cpu: 'cores',
  'requests.cpu': 'cores',
  'limits.cpu': 'cores',
  memory: 'Gi',
  'requests.memory': 'Gi',
  'limits.memory': 'Gi',
  storage: 'Gi',
  'requests.storage': 'Gi',
};

/** A violation's value: numbers get the resource's unit, quantity strings stay as written. */
export function resourceValue(resource: string, v: number | string): string {
  if (typeof v === 'string') return v;
  const unit = RESOURCE_UNITS[resource];
  return unit ? `${amount(v)} ${unit}` : amount(v);
}
