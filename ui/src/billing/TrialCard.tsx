/**
 * The trial: how long it has left and, with a payment provider, a "Subscribe" that converts it
 * (a payment method added before the end keeps the plan; without one the trial ends on the floor).
 */
import { Alert, AlertActionLink } from '@patternfly/react-core';
import type { OrganizationSubscription } from '../api/types';
import { date } from './format';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

/** "3 days", "5 hours", "less than an hour"; null when the end is not a time. */
export function timeLeft(endsAt: string, now: number = Date.now()): string | null {
  const end = new Date(endsAt).getTime();
  if (Number.isNaN(end)) return null;
  const left = end - now;
  if (left <= 0) return 'no time';
  if (left >= DAY) {
    const days = Math.floor(left / DAY);
    return `${days} day${days === 1 ? '' : 's'}`;
  }
  if (left >= HOUR) {
    const hours = Math.floor(left / HOUR);
    return `${hours} hour${hours === 1 ? '' : 's'}`;
  }
  return 'less than an hour';
}

export interface TrialCardProps {
  sub: OrganizationSubscription;
  /** A payment provider takes a payment method (`features.portal`): only then is there a Subscribe. */
  canSubscribe: boolean;
  onSubscribe: () => void;
}

export function TrialCard({ sub, canSubscribe, onSubscribe }: TrialCardProps) {
  if (sub.status !== 'trialing' || !sub.trialEndsAt) return null;
  const left = timeLeft(sub.trialEndsAt);
  if (left === null) return null;
  const plan = sub.planName ?? sub.planId ?? 'the plan';
  return (
    <Alert
      variant="info"
      isInline
      data-testid="trial"
      title={`Trial of ${plan}: ${left} left`}
      actionLinks={canSubscribe ? <AlertActionLink onClick={onSubscribe}>Subscribe</AlertActionLink> : undefined}
    >
      The trial ends on {date(sub.trialEndsAt)}.{' '}
      {canSubscribe
        ? 'Subscribe before then to keep the plan; otherwise the organization falls back to the minimal quota.'
        : 'Then the organization falls back to the minimal quota unless a plan is assigned.'}
    </Alert>
  );
}
