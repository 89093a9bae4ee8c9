/** Subscription: status, provider ids, when a canceling subscription ends, and Cancel. */
import { useState } from 'react';
import {
  Button,
  Card,
  CardBody,
  CardFooter,
  CardTitle,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Flex,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
} from '@patternfly/react-core';
import CreditCardIcon from '@patternfly/react-icons/dist/esm/icons/credit-card-icon';
import { date, money } from './format';
import { hasLiveSubscription, type BillingData } from './model';
import { StatusLabel } from './StatusLabel';
import { SubscriptionAlerts } from './SubscriptionAlerts';
import { ExternalBillingLink } from './ExternalBillingLink';
import { useKeepFocus } from './useKeepFocus';

const PROVIDERS: Record<string, string> = { none: 'None (quotas only)', stripe: 'Stripe', whmcs: 'WHMCS' };

export interface SubscriptionProps {
  data: BillingData;
  onCancel: () => Promise<void>;
  onManagePayment: () => void;
  /** Shows the plans (how a suspended or canceled organization subscribes again). */
  onViewPlans?: () => void;
}

export function SubscriptionTab({ data, onCancel, onManagePayment, onViewPlans }: SubscriptionProps) {
  const { subscription: sub, config } = data;
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const dialogOpened = useKeepFocus(confirming);
  const canCancel = config.features.checkout && hasLiveSubscription(sub) && sub.status !== 'canceling';
  const cost = sub.monthlyCost;
  const term = (label: string, value: React.ReactNode) => (
    <DescriptionListGroup>
      <DescriptionListTerm>{label}</DescriptionListTerm>
      <DescriptionListDescription>{value}</DescriptionListDescription>
    </DescriptionListGroup>
  );
  return (
    <Flex direction={{ default: 'column' }} spaceItems={{ default: 'spaceItemsMd' }}>
      <SubscriptionAlerts sub={sub} config={config} onManagePayment={onManagePayment} onViewPlans={onViewPlans} />
      <Card>
        <CardTitle component="h2" className="oq-section-title">
          Subscription
        </CardTitle>
        <CardBody>
          <DescriptionList isHorizontal horizontalTermWidthModifier={{ default: '22ch' }} columnModifier={{ lg: '2Col' }} aria-label="Subscription details">
            {term('Organization', sub.organization)}
            {term('Plan', sub.planName ?? sub.planId ?? 'No plan')}
            {term('Status', <StatusLabel status={sub.status} />)}
            {term('Quota', sub.ready === false ? `not applied yet (${sub.mode ?? 'unknown'} mode)` : `${sub.mode ?? 'plan'} mode, applied`)}
            {sub.since && term('Since', date(sub.since))}
            {sub.status === 'canceling' && term('Ends on', sub.periodEnd ? date(sub.periodEnd) : 'end of the current period')}
            {sub.status !== 'canceling' && sub.periodEnd && term('Current period ends', date(sub.periodEnd))}
            {sub.graceEndsAt && term('Grace period ends', date(sub.graceEndsAt))}
            {sub.trialEndsAt && term('Trial ends', date(sub.trialEndsAt))}
            {cost && term('Monthly cost', money(cost.total, cost.currency))}
            {term('Billing provider', PROVIDERS[config.provider] ?? config.provider)}
            {term('Provider subscription ID', sub.providerSubscriptionId ?? '—')}
            {term('Provider customer ID', sub.providerCustomerId ?? '—')}
          </DescriptionList>
        </CardBody>
        <CardFooter>
          <Flex spaceItems={{ default: 'spaceItemsMd' }}>
            {config.features.portal && sub.providerCustomerId && (
              <Button variant="secondary" icon={<CreditCardIcon />} onClick={onManagePayment}>
                Manage Payment
              </Button>
            )}
            {canCancel && (
              <Button
                variant="danger"
                onClick={() => {
                  dialogOpened();
                  setConfirming(true);
                }}
              >
                Cancel Subscription
              </Button>
            )}
            <ExternalBillingLink config={config} />
          </Flex>
        </CardFooter>
      </Card>
      {confirming && (
        <Modal
          isOpen
          variant="small"
          onClose={() => {
            setConfirming(false);
          }}
          aria-labelledby="cancel-modal-title"
          aria-describedby="cancel-modal-body"
        >
          <ModalHeader title="Cancel the subscription?" labelId="cancel-modal-title" titleIconVariant="warning" />
          <ModalBody id="cancel-modal-body">
            The {sub.planName ?? sub.planId} plan stays in force until the end of the current billing period. After that,
            {` ${sub.organization}`} falls back to the minimal suspended quota: workloads above it cannot start, and after the grace
            period they are scaled to zero.
          </ModalBody>
          <ModalFooter>
            <Button
              variant="danger"
              isLoading={busy}
              isDisabled={busy}
              onClick={() => {
                setBusy(true);
                void onCancel().finally(() => {
                  setBusy(false);
                  setConfirming(false);
                });
              }}
            >
              Cancel at period end
            </Button>
            <Button
              variant="link"
              onClick={() => {
                setConfirming(false);
              }}
            >
              Keep subscription
            </Button>
          </ModalFooter>
        </Modal>
      )}
    </Flex>
  );
}
