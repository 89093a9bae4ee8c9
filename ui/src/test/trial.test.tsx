import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/react';
import { TrialCard, timeLeft } from '../billing/TrialCard';
import type { OrganizationSubscription } from '../api/types';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function trialing(trialEndsAt: string | null, status = 'trialing'): OrganizationSubscription {
  return { organization: 'acme', planId: 'pro-pool', planName: 'Pro Pool', status, addons: [], trialEndsAt };
}

describe('the trial', () => {
  it('says how much time is left', () => {
    expect(timeLeft('2026-12-15T12:00:00Z', NOW)).toBe('14 days');
    expect(timeLeft('2026-12-02T13:00:00Z', NOW)).toBe('1 day');
    expect(timeLeft('2026-12-01T17:30:00Z', NOW)).toBe('5 hours');
    expect(timeLeft('2026-12-01T12:20:00Z', NOW)).toBe('less than an hour');
    expect(timeLeft('2026-11-30T12:00:00Z', NOW)).toBe('no time');
    expect(timeLeft('soon', NOW)).toBeNull();
  });

  it('offers Subscribe only with a payment provider, and Subscribe converts', () => {
    const end = new Date(Date.now() + 3 * 86400 * 1000 + 60_000).toISOString();
    const onSubscribe = vi.fn();
    const { rerender } = render(<TrialCard sub={trialing(end)} canSubscribe onSubscribe={onSubscribe} />);
    expect(screen.getByTestId('trial')).toHaveTextContent('Trial of Pro Pool: 3 days left');
    fireEvent.click(screen.getByRole('button', { name: 'Subscribe' }));
    expect(onSubscribe).toHaveBeenCalledOnce();
    rerender(<TrialCard sub={trialing(end)} canSubscribe={false} onSubscribe={onSubscribe} />);
    expect(screen.queryByRole('button', { name: 'Subscribe' })).toBeNull();
    rerender(<TrialCard sub={trialing(end, 'active')} canSubscribe onSubscribe={onSubscribe} />);
    expect(screen.queryByTestId('trial')).toBeNull();
  });
});
