import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';
import { fail, ok, subscriptionFixture } from './fakeApi';

const card = (id: string) => within(screen.getByTestId(`plan-${id}`));

describe('Available Plans tab', () => {
  it('shows a card per plan with price, resources and features, the current one badged', async () => {
    await renderBilling({ tab: 'plans', waitFor: 'Dev Pool' });
    const dev = card('dev-pool');
    expect(dev.getByRole('heading', { name: 'Dev Pool' })).toBeInTheDocument();
    expect(dev.getByText('€19')).toBeInTheDocument();
    expect(dev.getByText('/month')).toBeInTheDocument();
    expect(dev.getByText('4 cores')).toBeInTheDocument();
    expect(dev.getByText('60 Gi')).toBeInTheDocument();
    expect(dev.getByText('Nested Clusters (KubeVirt)')).toBeInTheDocument();
    expect(dev.queryByText('Current Plan')).not.toBeInTheDocument();
    const scale = card('scale-pool');
    expect(scale.getByText('Current Plan')).toBeInTheDocument();
    expect(scale.getByText('Active')).toBeInTheDocument();
    expect(scale.queryByRole('button')).not.toBeInTheDocument();
    expect(card('pro-pool').getByText('Recommended')).toBeInTheDocument();
    expect(dev.getByRole('button', { name: 'Switch to Dev Pool' })).toBeInTheDocument();
  });

  it('before a downgrade shows its cost and what would no longer fit, and blocks it', async () => {
    const fake = await renderBilling({
      tab: 'plans',
      waitFor: 'Dev Pool',
      routes: {
        'POST /simulate-downgrade': () =>
          ok({
            fits: false,
            violations: [
              { resource: 'memory', used: 70.4, newLimit: 42.25 },
              { resource: 'publicIPv4', used: 3, newLimit: 1 },
            ],
          }),
      },
    });
    await userEvent.click(screen.getByRole('button', { name: 'Switch to Dev Pool' }));
    const dialog = await screen.findByRole('dialog', { name: 'Downgrade to Dev Pool' });
    const d = within(dialog);
    expect(d.getByText(/€158 →/)).toHaveTextContent('€158 → €78 (−€80)');
    expect(d.getByText('30 cores → 18 cores')).toBeInTheDocument();
    const table = await d.findByRole('table', { name: 'Resources that would no longer fit' });
    const rows = within(table).getAllByRole('row').map((r) => r.textContent);
    expect(rows).toEqual(['ResourceIn useNew limit', 'Memory70.4 Gi42.3 Gi', 'Public IPv431']);
    expect(d.getByRole('button', { name: 'Switch to Dev Pool' })).toBeDisabled();
    expect(fake.called('POST', '/simulate-downgrade')[0]?.body).toEqual({ planId: 'dev-pool', addons: subscriptionFixture().addons });
    expect(fake.called('PUT', '/organization-subscription')).toHaveLength(0);
  });

  it('switches after the check says current usage fits', async () => {
    const fake = await renderBilling({ tab: 'plans', waitFor: 'Dev Pool' });
    await userEvent.click(screen.getByRole('button', { name: 'Switch to Pro Pool' }));
    const d = within(await screen.findByRole('dialog', { name: 'Downgrade to Pro Pool' }));
    expect(await d.findByText('Current usage fits the new limits.')).toBeInTheDocument();
    await userEvent.click(d.getByRole('button', { name: 'Switch to Pro Pool' }));
    expect(fake.called('PUT', '/organization-subscription')[0]?.body).toEqual({ planId: 'pro-pool' });
    expect(await screen.findByText('Plan change to Pro Pool requested')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('an upgrade needs no usage check', async () => {
    const sub = subscriptionFixture({ planId: 'dev-pool', planName: 'Dev Pool', addons: [], monthlyCost: { plan: 19, addons: 0, total: 19, currency: 'EUR' } });
    const fake = await renderBilling({ tab: 'plans', waitFor: 'Dev Pool', subscription: sub });
    await userEvent.click(screen.getByRole('button', { name: 'Switch to Scale Pool' }));
    const d = within(await screen.findByRole('dialog', { name: 'Upgrade to Scale Pool' }));
    expect(d.getByText(/€19 →/)).toHaveTextContent('€19 → €99 (+€80)');
    expect(fake.called('POST', '/simulate-downgrade')).toHaveLength(0);
    expect(d.getByRole('button', { name: 'Switch to Scale Pool' })).toBeEnabled();
  });

  it('shows the API refusal of a plan change in the page', async () => {
    await renderBilling({
      tab: 'plans',
      waitFor: 'Dev Pool',
      routes: { 'PUT /organization-subscription': () => fail(409, 'Current usage does not fit the new plan', { violations: [{}, {}] }) },
    });
    await userEvent.click(screen.getByRole('button', { name: 'Switch to Pro Pool' }));
    const d = within(await screen.findByRole('dialog'));
    await d.findByText('Current usage fits the new limits.');
    await userEvent.click(d.getByRole('button', { name: 'Switch to Pro Pool' }));
    expect(await screen.findByText('Could not change to Pro Pool: Current usage does not fit the new plan')).toBeInTheDocument();
    expect(screen.getByText('2 resource(s) in use exceed the new limits.')).toBeInTheDocument();
  });

  it('without a live subscription, Subscribe goes to Stripe Checkout', async () => {
    const sub = subscriptionFixture({ planId: null, planName: null, status: null, providerSubscriptionId: null, addons: [], usage: {} });
    const fake = await renderBilling({ tab: 'plans', waitFor: 'Dev Pool', subscription: sub });
    await userEvent.click(screen.getByRole('button', { name: 'Subscribe to Pro Pool' }));
    const d = within(await screen.findByRole('dialog', { name: 'Subscribe to Pro Pool' }));
    await d.findByText('Current usage fits the new limits.');
    await userEvent.click(d.getByRole('button', { name: 'Continue to checkout' }));
    expect(fake.called('POST', '/organization-subscription')[0]?.body).toEqual({ planId: 'pro-pool', addons: [] });
    expect(fake.navigate).toHaveBeenCalledWith('https://checkout.example/cs_1');
  });

  it('has no Switch or Subscribe buttons without a provider, and says who changes plans', async () => {
    await renderBilling({ tab: 'plans', waitFor: 'Dev Pool', provider: 'none' });
    expect(screen.queryByRole('button', { name: /Switch to|Subscribe/ })).not.toBeInTheDocument();
    expect(screen.getByText('Plans are assigned by your platform administrator')).toBeInTheDocument();
  });

  it('sends WHMCS customers to WHMCS', async () => {
    await renderBilling({ tab: 'plans', waitFor: 'Dev Pool', provider: 'whmcs' });
    expect(screen.queryByRole('button', { name: /Switch to|Subscribe/ })).not.toBeInTheDocument();
    expect(screen.getByRole('link', { name: /Manage in WHMCS/ })).toHaveAttribute('href', 'https://whmcs.example/clientarea');
  });
});
