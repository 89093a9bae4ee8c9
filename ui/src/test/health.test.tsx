import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';
import { fail } from './fakeApi';
import { fakeEvents } from './fakeEvents';

const STATUS = {
  quotaEnforced: true, planId: 'scale-pool', mode: 'plan', hrqExists: true, limitRangeExists: true, ready: true,
  reason: 'Applied', message: 'plan scale-pool is enforced', overQuota: ['publicIPv4'],
  alerts: [{ resource: 'cpu', level: 'warning', percent: 87.3, since: '2026-11-03T08:00:00Z' }],
};

describe('what the page tells users to do', () => {
  it('names the consequence and the cheapest fix of each quota under pressure, from the stream', async () => {
    const events = fakeEvents();
    await renderBilling({ events });
    await screen.findByText('Live: changes show here as they happen.');
    expect(screen.queryByTestId('quota-health-cpu')).toBeNull();
    act(() => {
      events.send('alerts', STATUS);
    });
    const cpu = await screen.findByTestId('quota-health-cpu');
    expect(cpu).toHaveTextContent('CPU at 87.3 % of the quota');
    expect(cpu).toHaveTextContent('Soon new pods that request CPU will be refused. Cheapest fix: add Turbo x1 (€9 a month), or free some of it.');
    expect(cpu).toHaveClass('pf-m-warning');
    const ips = screen.getByTestId('quota-health-public_ipv4');
    expect(ips).toHaveTextContent('Public IPv4 is above its limit');
    expect(ips).toHaveTextContent('Now new public IPs will be refused. Cheapest fix: free some of it, or ask your platform administrator for more.');
    expect(ips).toHaveClass('pf-m-danger');
    act(() => {
      events.send('alerts', { ...STATUS, overQuota: [], alerts: [] });
    });
    await waitFor(() => {
      expect(screen.queryByTestId('quota-health-cpu')).toBeNull(); // recovered: the banner goes
    });
  });

  it('in quota-only mode the add-on tab says who to ask', async () => {
    await renderBilling({ provider: 'none', tab: 'addons', waitFor: 'Add-ons are assigned by your platform administrator' });
    expect(screen.getByText(/ask an administrator, who records it on your organization/)).toBeInTheDocument();
  });

  it('a session that expires mid-action offers "Sign in again"', async () => {
    const { onSignIn } = await renderBilling({ tab: 'addons', routes: { 'POST /organization-subscription/addons': () => fail(401, 'token expired') } });
    await userEvent.click((await screen.findAllByRole('button', { name: /Add another|Add Turbo/ }))[0] as HTMLElement);
    await userEvent.click(await screen.findByRole('button', { name: /^Add Turbo/ }));
    expect(await screen.findByText(/your session has expired/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Sign in again' }));
    expect(onSignIn).toHaveBeenCalled();
  });
});
