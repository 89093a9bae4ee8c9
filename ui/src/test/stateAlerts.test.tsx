import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';
import { subscriptionFixture } from './fakeApi';

const alert = () => screen.getByTestId('state-alert');
const inAlert = (name: string) => within(alert()).queryByRole('button', { name });

describe('each subscription state says until when, and what fixes it', () => {
  it('past due: the period end, and Update payment method', async () => {
    const { navigate } = await renderBilling({ subscription: subscriptionFixture({ status: 'past_due', periodEnd: '2026-12-11T09:30:00Z' }) });
    expect(alert()).toHaveTextContent('the current period ends on Dec 11, 2026');
    const update = inAlert('Update payment method');
    expect(update).not.toBeNull();
    if (update) await userEvent.click(update);
    expect(navigate).toHaveBeenCalledWith('https://portal.example/session');
  });

  it('canceling: the end date, and where to resume', async () => {
    const { navigate } = await renderBilling({ subscription: subscriptionFixture({ status: 'canceling', periodEnd: '2026-12-31T00:00:00Z' }) });
    expect(screen.getByRole('heading', { name: /ends on Dec 31, 2026/ })).toBeInTheDocument();
    const resume = inAlert('Resume in the payment portal');
    expect(resume).not.toBeNull();
    if (resume) await userEvent.click(resume);
    expect(navigate).toHaveBeenCalledWith('https://portal.example/session');
  });

  it('suspended: when the grace period ends, Re-subscribe and Update payment method', async () => {
    await renderBilling({ subscription: subscriptionFixture({ status: 'suspended', periodEnd: null, graceEndsAt: '2026-12-08T10:00:00Z' }) });
    expect(screen.getByRole('heading', { name: /suspended: workloads stop on Dec 8, 2026/ })).toBeInTheDocument();
    expect(alert()).toHaveTextContent('Unless one is by Dec 8, 2026, the subscription is then canceled');
    expect(inAlert('Update payment method')).not.toBeNull();
    const resubscribe = inAlert('Re-subscribe');
    expect(resubscribe).not.toBeNull();
    if (resubscribe) await userEvent.click(resubscribe);
    expect(screen.getByRole('tab', { name: 'Available Plans' })).toHaveAttribute('aria-selected', 'true');
  });

  it('suspended without a started clock: no date is made up', async () => {
    await renderBilling({ subscription: subscriptionFixture({ status: 'suspended', graceEndsAt: null }) });
    expect(screen.getByRole('heading', { name: /The subscription is suspended$/ })).toBeInTheDocument();
    expect(alert()).not.toHaveTextContent('Unless');
  });

  it('trialing: the trial end, on the Overview and the Subscription tab', async () => {
    const trialEndsAt = new Date(Date.now() + 5 * 86400 * 1000 + 60_000).toISOString();
    await renderBilling({ tab: 'subscription', waitFor: 'sub_1QfakeScale', subscription: subscriptionFixture({ status: 'trialing', trialEndsAt }) });
    expect(screen.getByTestId('trial')).toHaveTextContent('5 days left');
    expect(screen.getByText('Trial ends')).toBeInTheDocument();
  });

  it('the Subscription tab offers the same actions and dates', async () => {
    await renderBilling({ tab: 'subscription', waitFor: 'sub_1QfakeScale', subscription: subscriptionFixture({ status: 'suspended', graceEndsAt: '2026-12-08T10:00:00Z' }) });
    expect(inAlert('Re-subscribe')).not.toBeNull();
    expect(screen.getByText('Grace period ends')).toBeInTheDocument();
  });
});
