/** What the usage-over-time cards show, derived from the history, forecast and advice answers. */
import type { AddonEntry, HistoryPoint, HistoryResource, ResourceForecast } from '../api/types';
import { amount, date } from './format';

export const HISTORY_RESOURCES: { key: HistoryResource; label: string }[] = [
  { key: 'cpu', label: 'CPU' },
  { key: 'memory', label: 'Memory' },
  { key: 'storage', label: 'Storage' },
  { key: 'pods', label: 'Pods' },
  { key: 'services_loadbalancers', label: 'Load balancers' },
  { key: 'public_ipv4', label: 'Public IPv4' },
];

/** The ranges offered, each with a step that gives a chart 169 to 181 points. */
export const RANGES = [
  { range: '7d', step: '1h', days: 7, label: '7 days' },
  { range: '30d', step: '4h', days: 30, label: '30 days' },
  { range: '90d', step: '12h', days: 90, label: '90 days' },
] as const;

export type HistoryRange = (typeof RANGES)[number];

const DAY = 86400;

/** The API's unit as the rest of the page writes it ("Gi", as the usage bars do; counts bare). */
export function unitLabel(unit: string): string {
  if (unit === 'GiB') return 'Gi';
  return unit === 'count' ? '' : unit;
}

export function withUnit(value: number, unit: string): string {
  const shown = unitLabel(unit);
  return shown ? `${amount(value)} ${shown}` : amount(value);
}

export const seconds = (iso: string): number => new Date(iso).getTime() / 1000;

/**
 * The forecast drawn from `used` now along `ratePerDay`, up to when it runs out, but no further
 * ahead than `horizonDays` (a chart of the last 7 days looks at most 7 days forward).
 * Null when nothing grows, the quota is already full or there is too little history.
 */
export function forecastLine(f: ResourceForecast | undefined, now: number, horizonDays: number): HistoryPoint[] | null {
  if (!f?.enoughHistory || f.ratePerDay === null || f.ratePerDay <= 0) return null;
  const horizon = now + horizonDays * DAY;
  const end = f.runsOutAt === null ? horizon : Math.min(seconds(f.runsOutAt), horizon);
  if (end <= now) return null;
  return [
    [now, f.used],
    [end, f.used + (f.ratePerDay * (end - now)) / DAY],
  ];
}

/** The limit carried on at its last value to `until` (where the forecast line ends), to show where they meet. */
export function limitAhead(limit: HistoryPoint[], until: number): HistoryPoint[] {
  const last = limit.at(-1);
  return last && until > last[0] ? [...limit, [until, last[1]]] : limit;
}

/** One line about a resource's future: when it runs out, or why the page cannot say. */
export function forecastText(f: ResourceForecast | undefined, generatedAt: string): string {
  if (!f) return '';
  if (!f.enoughHistory) return 'Not enough history yet for a forecast';
  if (f.limit === null) return 'No limit';
  if (f.runsOutAt !== null) return seconds(f.runsOutAt) <= seconds(generatedAt) ? 'The quota is full' : `Runs out around ${date(f.runsOutAt)}`;
  return f.ratePerDay !== null && f.ratePerDay > 0 ? 'Lasts more than a year at this rate' : 'Not growing';
}

/** What a suggestion adds to the add-ons held now: [add-on id, how many more]. */
export function addedAddons(now: AddonEntry[], suggested: AddonEntry[]): [string, number][] {
  const held = (id: string) => now.filter((a) => a.addonId === id).reduce((n, a) => n + a.quantity, 0);
  return suggested.map((a): [string, number] => [a.addonId, a.quantity - held(a.addonId)]).filter(([, more]) => more > 0);
}
