/**
 * What the usage bars' limits are: the quota enforced now (read from the cluster), which may be
 * larger than what was bought (room for each project's system pods), and a change not yet enforced.
 */
import { Alert, Content, Label } from '@patternfly/react-core';
import type { OrganizationSubscription, Plan, UsageKey } from '../api/types';
import { amount, gib } from './format';

/** The usage bars, in their order, with the unit each figure is in. */
export const USAGE_BARS: { key: UsageKey; label: string; unit: string }[] = [
  { key: 'cpu', label: 'CPU', unit: 'cores' },
  { key: 'memory', label: 'Memory', unit: 'Gi' },
  { key: 'storage', label: 'Storage', unit: 'Gi' },
  { key: 'pods', label: 'Pods', unit: '' },
  { key: 'publicIPv4', label: 'Public IPv4', unit: '' },
];

const withUnit = (n: number | null | undefined, unit: string) =>
  n === null || n === undefined ? 'no limit' : `${amount(n)}${unit ? ` ${unit}` : ''}`;

/** "pending" beside what is not yet enforced (the plan's name, a bar). */
export function PendingLabel() {
  return (
    <Label isCompact color="blue" className="oq-pending">
      pending
    </Label>
  );
}

/** A change of plan, add-ons or subscription the cluster does not enforce yet, and the limits it will give. */
export function PendingNotice({ sub }: { sub: OrganizationSubscription }) {
  if (!sub.pending) return null;
  const next = sub.pendingLimit ?? {};
  const changes = USAGE_BARS.filter(({ key }) => key in next && next[key] !== sub.usage?.[key]?.limit);
  const confirmed = Boolean(sub.pendingLimit);
  const title = confirmed ? 'Change pending: the new quota is not enforced yet' : "Change pending: waiting for the payment provider's confirmation";
  return (
    <Alert isInline isLiveRegion variant="info" title={title} data-testid="pending-notice">
      <Content component="p">
        The bars show the quota in force now. {confirmed ? 'The platform applies the change within seconds' : 'The change applies once the provider confirms it'}; this page
        updates when it does.
      </Content>
      {changes.length > 0 && (
        <Content component="p">
          New limits: {changes.map(({ key, label, unit }) => `${label} ${withUnit(next[key], unit)}`).join(', ')}.
        </Content>
      )}
    </Alert>
  );
}

/** Why an enforced limit is above what was bought: each project's share of system overhead. */
export function EnforcedExplanation({ sub }: { sub: OrganizationSubscription }) {
  const bought = sub.resources;
  if (!bought || sub.pending) return null;
  const lines = (['cpu', 'memory'] as const)
    .map((key) => ({ key, bought: bought[key], enforced: sub.usage?.[key]?.limit }))
    .filter((l): l is { key: 'cpu' | 'memory'; bought: number; enforced: number } => typeof l.enforced === 'number' && l.enforced > l.bought);
  if (lines.length === 0) return null;
  const unit = { cpu: 'cores', memory: 'GiB' };
  return (
    <Content component="p" className="oq-enforced-note" data-testid="enforced-note">
      Limits are what the cluster enforces:{' '}
      {lines.map((l) => `${amount(l.enforced)} ${unit[l.key]} of ${l.key === 'cpu' ? 'CPU' : 'memory'} for ${amount(l.bought)} bought`).join(', ')}
      . The difference is reserved for the system pods each project runs (a fixed overhead per project), so the
      workloads get what was bought.
    </Content>
  );
}

/** The plan's object storage as the catalog gives it: a figure, since nothing measures its use yet. */
export function ObjectStorageFigure({ plan }: { plan: Plan | undefined }) {
  if (plan?.objectStorage === null || plan?.objectStorage === undefined) return null;
  return (
    <Content component="p" data-testid="object-storage">
      Object storage: {gib(plan.objectStorage)} with the plan (its use is not measured yet).
    </Content>
  );
}
