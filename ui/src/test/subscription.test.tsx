import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';
import { subscriptionFixture } from './fakeApi';

describe('Subscription tab', () => {
  it('shows status and the provider ids', async () => {
    await renderBilling({ tab: 'subscription', waitFor: 'sub_1QfakeScale' });
    const details = within(screen.getByLabelText('Subscription details'));
    expect(details.getByTestId('status-label')).toHaveTextContent('Active');
    expect(details.getByText('cus_QfakeAcme')).toBeInTheDocument();
    expect(details.getByText('Stripe')).toBeInTheDocument();
    expect(details.queryByText('Ends on')).not.toBeInTheDocument();
  });

  it('cancels only after confirmation, and says when it ends', async () => {
    const fake = await renderBilling({ tab: 'subscription', waitFor: 'sub_1QfakeScale' });
    await userEvent.click(screen.getByRole('button', { name: 'Cancel Subscription' }));
    const d = within(await screen.findByRole('dialog', { name: /Cancel the subscription/ }));
    expect(fake.called('DELETE', '/organization-subscription')).toHaveLength(0);
    await userEvent.click(d.getByRole('button', { name: 'Cancel at period end' }));
    expect(fake.called('DELETE', '/organization-subscription')).toHaveLength(1);
    expect(await screen.findByText('Subscription canceled: it ends on Dec 31, 2026')).toBeInTheDocument();
  });

  it('keeping the subscription sends nothing', async () => {
    const fake = await renderBilling({ tab: 'subscription', waitFor: 'sub_1QfakeScale' });
    await userEvent.click(screen.getByRole('button', { name: 'Cancel Subscription' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Keep subscription' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(fake.called('DELETE', '/organization-subscription')).toHaveLength(0);
  });

  it('a canceling subscription shows its end and no second Cancel', async () => {
    const sub = subscriptionFixture({ status: 'canceling', periodEnd: '2026-12-31T00:00:00Z' });
    await renderBilling({ tab: 'subscription', waitFor: 'sub_1QfakeScale', subscription: sub });
    expect(screen.getByTestId('status-label')).toHaveTextContent('Canceling');
    expect(screen.getByText('Canceled: the subscription ends on Dec 31, 2026')).toBeInTheDocument();
    expect(screen.getByText('Ends on')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel Subscription' })).not.toBeInTheDocument();
  });

  it('has no Cancel or Manage Payment without a provider', async () => {
    await renderBilling({ tab: 'subscription', waitFor: 'sub_1QfakeScale', provider: 'none' });
    expect(screen.queryByRole('button', { name: /Cancel|Manage Payment/ })).not.toBeInTheDocument();
    expect(screen.getByText('None (quotas only)')).toBeInTheDocument();
  });
});
