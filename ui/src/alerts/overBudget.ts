/**
 * A purchase the API refused because it would take the monthly cost above the budget (409
 * `BUDGET_EXCEEDED`, SPEC §10): told in the page's words, with the way to go ahead anyway
 * (the same call with `overBudget: true`).
 */
import { ApiError } from '../api/client';
import { money } from '../billing/format';

export interface OverBudget {
  monthlyCost: number;
  budget: number;
  currency: string;
}

export function overBudgetOf(e: unknown): OverBudget | null {
  if (!(e instanceof ApiError) || e.status !== 409) return null;
  const { monthlyCost, budget, currency } = e.details;
  if (typeof monthlyCost !== 'number' || typeof budget !== 'number' || typeof currency !== 'string') return null;
  return { monthlyCost, budget, currency };
}

export function overBudgetTitle(what: string, o: OverBudget): string {
  return `${what}: it would cost ${money(o.monthlyCost, o.currency)} a month, above your budget of ${money(o.budget, o.currency)}`;
}

export const GO_AHEAD = 'Go ahead above the budget';
