/** The shapes of SPEC §10's answers the alerts tab reads: `/quota-status` `alerts`, `/notification-settings`, `/budget`. */
import type { BillingFeatures } from '../api/types';

export type AlertLevel = 'warning' | 'critical';

/** One entry of `status.alerts` as `/quota-status` passes it on. */
export interface QuotaAlert {
  /** `cpu`, `memory`, `storage`, `pods`, `services_loadbalancers` or `public_ipv4` */
  resource: string;
  level: AlertLevel;
  /** usage in percent of the enforced limit, rounded down to a tenth */
  percent: number;
  /** RFC 3339: when the resource reached this level */
  since: string;
}

/** The part of `/quota-status` this tab reads. */
export interface QuotaStatusAlerts {
  alerts?: QuotaAlert[] | null;
}

export interface NotificationSettings {
  emails: string[];
}

export interface BudgetAnswer {
  /** major units; null when no budget is set */
  monthly: number | null;
  currency: string;
  /** the monthly cost now; null without a priced plan */
  current: number | null;
  percent: number | null;
}

/** `/config` features with `notifications` (true when the API mails alerts: SMTP_URL is set). */
export type AlertFeatures = BillingFeatures & { notifications?: boolean };
