/** The alerts tab's calls, over the page's one client (its token, envelope and ApiError). */
import type { BillingApi } from '../api/client';
import type { BudgetAnswer, NotificationSettings, QuotaStatusAlerts } from './types';

export const quotaStatus = (api: BillingApi): Promise<QuotaStatusAlerts> => api.call('GET', '/quota-status');

export const notificationSettings = (api: BillingApi): Promise<NotificationSettings> => api.call('GET', '/notification-settings');

export const saveNotificationSettings = (api: BillingApi, emails: string[]): Promise<NotificationSettings> =>
  api.call('PUT', '/notification-settings', { emails });

export const budget = (api: BillingApi): Promise<BudgetAnswer> => api.call('GET', '/budget');

/**
 * The amount goes as the person typed it (a decimal string the API reads exactly), never through a
 * float; the currency is left to the API, which takes the organization's.
 */
export const saveBudget = (api: BillingApi, monthly: string): Promise<BudgetAnswer> => api.call('PUT', '/budget', { monthly });

export const clearBudget = (api: BillingApi): Promise<BudgetAnswer> => api.call('DELETE', '/budget');
