/**
 * What a person must know about the subscription's state, on the Overview and the Subscription tab:
 * each state's alert says until when (the period's end, the grace period's end, the trial's end)
 * and offers what fixes it, where the page can do it.
 */
import { Alert, AlertActionLink } from '@patternfly/react-core';
import type { BillingConfig, OrganizationSubscription } from '../api/types';
import { date } from './format';
import { TrialCard } from './TrialCard';

export interface SubscriptionAlertsProps {
  sub: OrganizationSubscription;
  /** What the page may offer: the portal (`features.portal`, for a known customer), plans for sale (`features.checkout`). */
  config: BillingConfig;
  /** Opens the payment provider's portal: a failed payment's fix, and where a subscription set to end is resumed. */
  onManagePayment?: (() => void) | undefined;
  /** Shows the plans: how a suspended or canceled organization gets a plan again. */
  onViewPlans?: (() => void) | undefined;
}

interface Action {
  label: string;
  run: (() => void) | undefined;
}

/** The alert's action links: those whose handler the page has. */
function actions(...offered: Action[]) {
  const links = offered.flatMap(({ label, run }) => (run ? [<AlertActionLink key={label} onClick={run}>{label}</AlertActionLink>] : []));
  return links.length > 0 ? { actionLinks: <>{links}</> } : {};
}

export function SubscriptionAlerts({ sub, config, onManagePayment: manage, onViewPlans: plans }: SubscriptionAlertsProps) {
  const onManagePayment = config.features.portal && sub.providerCustomerId ? manage : undefined;
  const onViewPlans = config.features.checkout ? plans : undefined;
  const periodEnd = sub.periodEnd ? date(sub.periodEnd) : null;
  const graceEnd = sub.graceEndsAt ? date(sub.graceEndsAt) : null;
  return (
    <>
      {sub.status === 'trialing' && <TrialCard sub={sub} canSubscribe={config.features.portal && manage !== undefined} onSubscribe={manage ?? (() => undefined)} />}
      {sub.status === 'canceling' && (
        <Alert component="h2" isInline variant="warning" data-testid="state-alert" title={periodEnd ? `Canceled: the subscription ends on ${periodEnd}` : 'Canceled: the subscription ends at the end of the current period'} {...actions({ label: 'Resume in the payment portal', run: onManagePayment })}>
          Until then the plan stays in force. After that the organization falls back to the minimal suspended quota.
        </Alert>
      )}
      {sub.status === 'past_due' && (
        <Alert component="h2" isInline variant="warning" data-testid="state-alert" title="Payment failed" {...actions({ label: 'Update payment method', run: onManagePayment })}>
          The plan stays in force while the payment is retried{periodEnd ? ` (the current period ends on ${periodEnd})` : ''}. Update the payment method to keep it.
        </Alert>
      )}
      {sub.status === 'suspended' && (
        <Alert component="h2" isInline variant="danger" data-testid="state-alert" title={graceEnd ? `The subscription is suspended: workloads stop on ${graceEnd}` : 'The subscription is suspended'} {...actions({ label: 'Re-subscribe', run: onViewPlans }, { label: 'Update payment method', run: onManagePayment })}>
          The organization runs on the minimal suspended quota until a plan is active again.
          {graceEnd ? ` Unless one is by ${graceEnd}, the subscription is then canceled and its workloads are stopped.` : ''}
        </Alert>
      )}
      {sub.status === 'canceled' && (
        <Alert component="h2" isInline variant="danger" data-testid="state-alert" title="The subscription is canceled" {...actions({ label: 'Re-subscribe', run: onViewPlans })}>
          The organization runs on the minimal suspended quota until a plan is active again.
        </Alert>
      )}
    </>
  );
}
