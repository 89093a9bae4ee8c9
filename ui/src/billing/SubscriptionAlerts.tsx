/** What a person must know about the subscription's state, on the Overview and the Subscription tab. */
import { Alert } from '@patternfly/react-core';
import type { OrganizationSubscription } from '../api/types';
import { date } from './format';

export function SubscriptionAlerts({ sub }: { sub: OrganizationSubscription }) {
  return (
    <>
      {sub.status === 'canceling' && (
        <Alert component="h2" isInline variant="warning" title={sub.periodEnd ? `Canceled: the subscription ends on ${date(sub.periodEnd)}` : 'Canceled: the subscription ends at the end of the current period'}>
          Until then the plan stays in force. After that the organization falls back to the minimal suspended quota.
        </Alert>
      )}
      {sub.status === 'past_due' && (
        <Alert component="h2" isInline variant="warning" title="Payment failed">
          The plan stays in force while the payment is retried. Update the payment method to keep it.
        </Alert>
      )}
      {(sub.status === 'suspended' || sub.status === 'canceled') && (
        <Alert component="h2" isInline variant="danger" title={`The subscription is ${sub.status}`}>
          The organization runs on the minimal suspended quota until a plan is active again.
        </Alert>
      )}
    </>
  );
}
