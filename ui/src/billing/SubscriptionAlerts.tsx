/** What a person must know about the subscription's state, on the Overview and the Subscription tab. */
import { Alert, AlertActionLink } from '@patternfly/react-core';
import type { OrganizationSubscription } from '../api/types';
import { date } from './format';

export interface SubscriptionAlertsProps {
  sub: OrganizationSubscription;
  /** Opens the payment provider's portal (given only where one exists): a failed payment's fix. */
  onManagePayment?: (() => void) | undefined;
  /** Shows the plans: how a suspended or canceled organization gets a plan again. */
  onViewPlans?: (() => void) | undefined;
}

export function SubscriptionAlerts({ sub, onManagePayment, onViewPlans }: SubscriptionAlertsProps) {
  return (
    <>
      {sub.status === 'canceling' && (
        <Alert component="h2" isInline variant="warning" title={sub.periodEnd ? `Canceled: the subscription ends on ${date(sub.periodEnd)}` : 'Canceled: the subscription ends at the end of the current period'}>
          Until then the plan stays in force. After that the organization falls back to the minimal suspended quota.
        </Alert>
      )}
      {sub.status === 'past_due' && (
        <Alert component="h2" isInline variant="warning" title="Payment failed" {...(onManagePayment ? { actionLinks: <AlertActionLink onClick={onManagePayment}>Update payment method</AlertActionLink> } : {})}>
          The plan stays in force while the payment is retried. Update the payment method to keep it.
        </Alert>
      )}
      {(sub.status === 'suspended' || sub.status === 'canceled') && (
        <Alert component="h2" isInline variant="danger" title={`The subscription is ${sub.status}`} {...(onViewPlans ? { actionLinks: <AlertActionLink onClick={onViewPlans}>Re-subscribe</AlertActionLink> } : {})}>
          The organization runs on the minimal suspended quota until a plan is active again.
        </Alert>
      )}
    </>
  );
}
