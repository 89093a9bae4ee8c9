/** A subscription status as a coloured label: people read "Past due" faster than "past_due". */
import { Label } from '@patternfly/react-core';

const LOOK: Record<string, { text: string; color: 'green' | 'blue' | 'orange' | 'red' | 'grey' }> = {
  active: { text: 'Active', color: 'green' },
  trialing: { text: 'Trial', color: 'blue' },
  canceling: { text: 'Canceling', color: 'orange' },
  past_due: { text: 'Past due', color: 'orange' },
  suspended: { text: 'Suspended', color: 'red' },
  canceled: { text: 'Canceled', color: 'red' },
};

export function StatusLabel({ status }: { status: string | null | undefined }) {
  const look = LOOK[status ?? ''] ?? { text: status ?? 'None', color: 'grey' as const };
  return (
    <Label color={look.color} data-testid="status-label">
      {look.text}
    </Label>
  );
}
