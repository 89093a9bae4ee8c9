import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';
import { subscriptionFixture } from './fakeApi';

function bar(name: string) {
  const el = screen.getByRole('progressbar', { name });
  return { el, progress: el.closest('.pf-v6-c-progress') };
}

describe('Overview tab', () => {
  it('shows the plan, since when, the monthly cost split and the active add-ons', async () => {
    await renderBilling();
    expect(screen.getByText('Scale Pool')).toBeInTheDocument();
    expect(screen.getByText('Since Feb 11, 2026')).toBeInTheDocument();
    expect(screen.getByTestId('monthly-total')).toHaveTextContent('€158');
    expect(screen.getByText('Plan €99 + Add-ons €59')).toBeInTheDocument();
    expect(screen.getByText('Turbo x1')).toBeInTheDocument();
    expect(screen.getByLabelText('quantity 3')).toHaveTextContent('×3');
    expect(screen.getByLabelText('quantity 2')).toHaveTextContent('×2');
  });

  it('draws used / limit (pct%) per resource, coloured by level', async () => {
    await renderBilling();
    const cpu = bar('CPU');
    expect(cpu.el).toHaveAttribute('aria-valuenow', '56');
    expect(cpu.progress).toHaveTextContent('19.7 / 35 cores (56%)');
    expect(cpu.progress).toHaveClass('pf-m-success');
    const memory = bar('Memory');
    expect(memory.progress).toHaveTextContent('70.4 / 90.3 Gi (78%)');
    expect(memory.progress).toHaveClass('pf-m-warning');
    expect(bar('Storage').progress).toHaveTextContent('266 / 460 Gi (58%)');
    expect(bar('Pods').progress).toHaveTextContent('23 / 500 (5%)');
    const ipv4 = bar('Public IPv4');
    expect(ipv4.progress).toHaveTextContent('3 / 3 (100%)');
    expect(ipv4.progress).toHaveClass('pf-m-danger');
  });

  it('caps an over-quota bar at 100 but says the real percentage', async () => {
    const sub = subscriptionFixture();
    sub.usage = { cpu: { used: 12, limit: 8 } };
    await renderBilling({ subscription: sub });
    const cpu = bar('CPU');
    expect(cpu.el).toHaveAttribute('aria-valuenow', '100');
    expect(cpu.progress).toHaveTextContent('12 / 8 cores (150%)');
    expect(cpu.progress).toHaveClass('pf-m-danger');
  });

  it('offers View Plans, Manage Add-ons and, with a payment portal, Manage Payment', async () => {
    const { navigate } = await renderBilling();
    await userEvent.click(screen.getByRole('button', { name: 'Manage Payment' }));
    expect(navigate).toHaveBeenCalledWith('https://portal.example/session');
    await userEvent.click(screen.getByRole('button', { name: 'View Plans' }));
    expect(screen.getByRole('tab', { name: 'Available Plans' })).toHaveAttribute('aria-selected', 'true');
    expect(await screen.findByTestId('plan-dev-pool')).toBeInTheDocument();
  });

  it('has neither Manage Payment nor a WHMCS link without a provider', async () => {
    await renderBilling({ provider: 'none' });
    expect(screen.getByRole('button', { name: 'View Plans' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Manage Payment' })).not.toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /Manage in WHMCS/ })).not.toBeInTheDocument();
  });

  it('links to the WHMCS client area instead of payment buttons', async () => {
    await renderBilling({ provider: 'whmcs' });
    expect(screen.queryByRole('button', { name: 'Manage Payment' })).not.toBeInTheDocument();
    expect(screen.getByRole('link', { name: /Manage in WHMCS/ })).toHaveAttribute('href', 'https://whmcs.example/clientarea');
  });

  it('says when there is no plan at all', async () => {
    await renderBilling({ subscription: subscriptionFixture({ planId: null, planName: null, addons: [], usage: {}, since: null }) });
    const card = screen.getByText('Current Plan').closest('.pf-v6-c-card');
    expect(card).not.toBeNull();
    expect(within(card as HTMLElement).getByText('No plan')).toBeInTheDocument();
    expect(screen.getByText('No quota is enforced, so there is no usage to compare.')).toBeInTheDocument();
  });
});

describe('tab addresses', () => {
  it('a tab click sets the hash and a hash change selects the tab', async () => {
    await renderBilling();
    await userEvent.click(screen.getByRole('tab', { name: 'Turbo Add-ons' }));
    expect(window.location.hash).toBe('#addons');
    window.location.hash = 'subscription';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    expect(await screen.findByRole('tab', { name: 'Subscription', selected: true })).toBeInTheDocument();
  });
});

describe('subscription state on the Overview', () => {
  it('says a payment failed, and offers to update the payment method', async () => {
    const { navigate } = await renderBilling({ subscription: subscriptionFixture({ status: 'past_due' }) });
    expect(screen.getByRole('heading', { name: /Payment failed/ })).toBeInTheDocument();
    expect(screen.getByTestId('status-label')).toHaveTextContent('Past due');
    await userEvent.click(screen.getByRole('button', { name: 'Update payment method' }));
    expect(navigate).toHaveBeenCalledWith('https://portal.example/session');
  });

  it('a suspended subscription is a danger alert, with Re-subscribe where plans are sold', async () => {
    await renderBilling({ subscription: subscriptionFixture({ status: 'suspended' }) });
    const title = screen.getByRole('heading', { name: /The subscription is suspended/ });
    expect(title.closest('.pf-v6-c-alert')).toHaveClass('pf-m-danger');
    await userEvent.click(screen.getByRole('button', { name: 'Re-subscribe' }));
    expect(screen.getByRole('tab', { name: 'Available Plans' })).toHaveAttribute('aria-selected', 'true');
  });

  it('offers neither action without a payment provider', async () => {
    await renderBilling({ provider: 'none', subscription: subscriptionFixture({ status: 'suspended', providerCustomerId: null }) });
    expect(screen.queryByRole('button', { name: 'Re-subscribe' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Update payment method' })).toBeNull();
  });
});

describe('Overview: what is enforced, and what is pending', () => {
  it('explains an enforced limit above what was bought', async () => {
    await renderBilling({ subscription: subscriptionFixture({ resources: { cpu: 10, memory: 28, storage: 180 }, usage: { cpu: { used: 1, limit: 10.3 }, memory: { used: 1, limit: 28.375 }, storage: { used: 1, limit: 180 } } }) });
    expect(screen.getByTestId('enforced-note')).toHaveTextContent('10.3 cores of CPU for 10 bought, 28.4 GiB of memory for 28 bought');
    expect(screen.getByTestId('enforced-note')).toHaveTextContent('system pods each project runs');
  });

  it('says nothing when the limits are what was bought', async () => {
    await renderBilling({ subscription: subscriptionFixture({ resources: { cpu: 35, memory: 90.25, storage: 460 } }) });
    expect(screen.queryByTestId('enforced-note')).toBeNull();
  });

  it('marks a change the cluster does not enforce yet as pending, with the limits it will give', async () => {
    const sub = subscriptionFixture({ pending: true, pendingLimit: { cpu: 4.3, memory: 90.25, storage: 60, pods: 100, publicIPv4: 0 } });
    await renderBilling({ subscription: sub });
    const notice = screen.getByTestId('pending-notice');
    expect(notice).toHaveTextContent('Change pending: the new quota is not enforced yet');
    expect(notice).toHaveTextContent('New limits: CPU 4.3 cores, Storage 60 Gi, Pods 100, Public IPv4 0.');
    expect(screen.getByText('pending')).toBeInTheDocument();
    expect(screen.queryByTestId('enforced-note')).toBeNull();
    expect(bar('CPU').progress).toHaveTextContent('19.7 / 35 cores (56%)'); // the quota in force now
  });
});

describe('Overview: the plan as the catalog gives it', () => {
  it("shows the plan's object storage as a figure", async () => {
    await renderBilling();
    expect(screen.getByTestId('object-storage')).toHaveTextContent('Object storage: 500 Gi with the plan (its use is not measured yet).');
  });
});
