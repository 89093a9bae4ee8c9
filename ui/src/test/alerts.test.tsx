/**
 * "Alerts & Budget" over the fake API: the active alerts with their consequence and fix, the
 * notification-settings form (the page's checks and the API's 400 under the field), the budget.
 */
import axe from 'axe-core';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { fail, ok, type FakeOptions } from './fakeApi';
import { renderBilling } from './render';
import { parseAddresses } from '../alerts/NotificationSettingsCard';
import { amountProblem } from '../alerts/BudgetCard';
import type { BudgetAnswer, QuotaAlert } from '../alerts/types';

const ALERTS: QuotaAlert[] = [
  { resource: 'memory', level: 'warning', percent: 84.1, since: '2026-11-29T10:00:00Z' },
  { resource: 'public_ipv4', level: 'critical', percent: 100, since: '2026-11-28T08:30:00Z' },
];
const BUDGET: BudgetAnswer = { monthly: 250, currency: 'EUR', current: 158, percent: 63.2 };
const NO_BUDGET: BudgetAnswer = { monthly: null, currency: 'EUR', current: 158, percent: null };

function routes(alerts: QuotaAlert[] = ALERTS, extra: FakeOptions['routes'] = {}): FakeOptions['routes'] {
  return {
    'GET /quota-status': () => ok({ quotaEnforced: true, planId: 'scale-pool', overQuota: [], alerts }),
    'GET /notification-settings': () => ok({ emails: ['ops@acme.example'] }),
    'GET /budget': () => ok(BUDGET),
    ...extra,
  };
}

const open = (opts: FakeOptions = {}) => renderBilling({ tab: 'alerts', waitFor: 'Active alerts', routes: routes(), ...opts });
const alertOf = (resource: string) => within(screen.getByTestId(`alert-${resource}`));

async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('active alerts', () => {
  it('lists each alert, worst first, with what a full quota refuses', async () => {
    await open();
    await screen.findByTestId('alert-memory');
    const titles = screen.getAllByRole('heading', { level: 3 }).map((h) => h.textContent);
    expect(titles.filter((t) => t.includes('of its quota'))).toEqual([
      expect.stringContaining('Public IPv4 at 100 % of its quota (critical)'),
      expect.stringContaining('Memory at 84.1 % of its quota (warning)'),
    ]);
    expect(alertOf('public_ipv4').getByText(/The quota is full: no more public IPv4 addresses can be allocated\./)).toBeInTheDocument();
    expect(alertOf('memory').getByText(/When the quota is full, new pods that request memory will be refused\./)).toBeInTheDocument();
  });

  it('without history the fix is where to raise the quota, and no advice is asked for', async () => {
    const fake = await open();
    await screen.findByTestId('alert-memory');
    expect(alertOf('memory').getByTestId('alert-fix')).toHaveTextContent('free what is not needed, or raise the quota');
    expect(fake.called('GET', '/recommendations')).toHaveLength(0);
    await userEvent.click(alertOf('memory').getByRole('button', { name: 'a Turbo add-on' }));
    expect(screen.getByRole('tab', { name: 'Turbo Add-ons' })).toHaveAttribute('aria-selected', 'true');
  });

  it("with history the fix is the API's advice, with its price and reason", async () => {
    await open({ history: true, advice: 'addon' });
    const fix = await within(await screen.findByTestId('alert-memory')).findByText(/Cheapest fix/);
    expect(fix.closest('p')).toHaveTextContent('Cheapest fix: Add 3 × Turbo x2: +€48 a month.');
    expect(fix.closest('p')).toHaveTextContent('The memory quota runs out around 12 December 2026');
    await userEvent.click(alertOf('memory').getByRole('button', { name: 'See add-ons' }));
    expect(screen.getByRole('tab', { name: 'Turbo Add-ons' })).toHaveAttribute('aria-selected', 'true');
  });

  it('advice that does not raise the quota (a downgrade) is not offered as the fix', async () => {
    await open({ history: true, advice: 'downgrade' });
    await screen.findByTestId('alert-memory');
    await within(screen.getByTestId('active-alerts')).findAllByText(/raise the quota/);
    expect(screen.queryByText(/Cheapest fix/)).not.toBeInTheDocument();
  });

  it('no alert is a quiet line; a failed read is a notice in the card', async () => {
    await open({ routes: routes([]) });
    expect(await screen.findByTestId('alerts-none')).toHaveTextContent('every quota is below its warning level');
  });

  it('a failed read stays in its card', async () => {
    await open({ routes: routes(ALERTS, { 'GET /quota-status': () => fail(503, 'the Kubernetes API is unreachable') }) });
    const card = within(screen.getByTestId('active-alerts'));
    expect(await card.findByText(/the Kubernetes API is unreachable/)).toBeInTheDocument();
    expect(screen.getByTestId('budget')).toBeInTheDocument();
  });
});

describe('notification settings', () => {
  it('checks the count and the shape before sending', () => {
    expect(parseAddresses('a@x.example\n\n b@y.example ')).toEqual({ emails: ['a@x.example', 'b@y.example'] });
    expect(parseAddresses(Array.from({ length: 11 }, (_, i) => `u${String(i)}@x.example`).join('\n'))).toEqual({ problem: 'At most 10 addresses (11 given).' });
    expect(parseAddresses('not-an-address')).toEqual({ problem: '"not-an-address" is not an e-mail address (name@example.com).' });
  });

  it('shows the stored addresses and saves the edited ones', async () => {
    const fake = await open({ routes: routes(ALERTS, { 'PUT /notification-settings': (b) => ok(b) }) });
    const field = await screen.findByLabelText('Addresses to mail alerts to');
    expect(field).toHaveValue('ops@acme.example');
    await userEvent.clear(field);
    await userEvent.type(field, 'ops@acme.example{enter}oncall@acme.example');
    await userEvent.click(screen.getByRole('button', { name: 'Save addresses' }));
    expect(await screen.findByText('Saved: 2 address(es).')).toBeInTheDocument();
    expect(fake.called('PUT', '/notification-settings')[0]?.body).toEqual({ emails: ['ops@acme.example', 'oncall@acme.example'] });
  });

  it("a refused list is not sent; the API's 400 is shown under the field", async () => {
    const refuse = () => fail(400, "emails: 'ops@localhost' is not an e-mail address (name@example.com)", { field: 'emails' });
    const fake = await open({ routes: routes(ALERTS, { 'PUT /notification-settings': refuse }) });
    const field = await screen.findByLabelText('Addresses to mail alerts to');
    await userEvent.clear(field);
    await userEvent.type(field, 'nobody');
    await userEvent.click(screen.getByRole('button', { name: 'Save addresses' }));
    expect(screen.getByTestId('emails-error')).toHaveTextContent('"nobody" is not an e-mail address');
    expect(fake.called('PUT', '/notification-settings')).toHaveLength(0);
    await userEvent.clear(field);
    await userEvent.type(field, 'ops@localhost');
    await userEvent.click(screen.getByRole('button', { name: 'Save addresses' }));
    expect(await screen.findByTestId('emails-error')).toHaveTextContent("emails: 'ops@localhost' is not an e-mail address");
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(await violations()).toEqual([]);
  });

  it('says when the platform sends no mail', async () => {
    await open();
    expect(await screen.findByText('This platform sends no e-mail yet')).toBeInTheDocument();
  });
});

describe('monthly budget', () => {
  it('checks the amount before sending', () => {
    expect(amountProblem('300')).toBeNull();
    expect(amountProblem(' 249.50 ')).toBeNull();
    for (const bad of ['0', '-5', '12.345', 'lots', '']) expect(amountProblem(bad)).not.toBeNull();
  });

  it('shows the budget beside the monthly cost', async () => {
    await open();
    expect(await screen.findByTestId('budget-current')).toHaveTextContent('€158');
    expect(screen.getByTestId('budget-monthly')).toHaveTextContent('€250');
    expect(screen.getByRole('progressbar', { name: 'Budget used' })).toHaveAttribute('aria-valuetext', '63.2 % of the budget');
    expect(await violations()).toEqual([]);
  });

  it('sets a budget as typed, then clears it', async () => {
    const fake = await open({
      routes: routes(ALERTS, {
        'GET /budget': () => ok(NO_BUDGET),
        'PUT /budget': () => ok({ monthly: 249.5, currency: 'EUR', current: 158, percent: 63.3 }),
        'DELETE /budget': () => ok(NO_BUDGET),
      }),
    });
    expect(await screen.findByTestId('budget-monthly')).toHaveTextContent('None set');
    expect(screen.queryByRole('button', { name: 'Clear budget' })).not.toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('New monthly budget (EUR)'), '249.50');
    await userEvent.click(screen.getByRole('button', { name: 'Set budget' }));
    expect(await screen.findByText('Budget set to €249.50 a month.')).toBeInTheDocument();
    expect(fake.called('PUT', '/budget')[0]?.body).toEqual({ monthly: '249.50' });
    expect(screen.getByTestId('budget-monthly')).toHaveTextContent('€249.50');
    await userEvent.click(screen.getByRole('button', { name: 'Clear budget' }));
    expect(await screen.findByText('Budget cleared.')).toBeInTheDocument();
    expect(fake.called('DELETE', '/budget')).toHaveLength(1);
    expect(screen.getByTestId('budget-monthly')).toHaveTextContent('None set');
  });

  it("a bad amount is not sent; the API's 400 is shown under the field", async () => {
    const refuse = () => fail(400, 'currency: the organization pays in EUR, not USD', { field: 'currency' });
    const fake = await open({ routes: routes(ALERTS, { 'PUT /budget': refuse }) });
    const field = await screen.findByLabelText('New monthly budget (EUR)');
    await userEvent.type(field, '12.345');
    await userEvent.click(screen.getByRole('button', { name: 'Set budget' }));
    expect(screen.getByTestId('budget-error')).toHaveTextContent('at most two decimals');
    expect(fake.called('PUT', '/budget')).toHaveLength(0);
    await userEvent.clear(field);
    await userEvent.type(field, '300');
    await userEvent.click(screen.getByRole('button', { name: 'Set budget' }));
    expect(await screen.findByTestId('budget-error')).toHaveTextContent('the organization pays in EUR, not USD');
    expect(screen.getByTestId('budget-monthly')).toHaveTextContent('€250');
  });
});

it('the whole tab has no axe violations', async () => {
  await open({ history: true, advice: 'upgrade' });
  expect(await screen.findAllByText(/Cheapest fix: Upgrade to Scale Pool/)).toHaveLength(2);
  expect(await violations()).toEqual([]);
});

describe('a purchase above the budget', () => {
  it('is refused with the figures, and goes ahead with overBudget when asked', async () => {
    const refuse = () =>
      fail(409, 'this would cost 167 EUR a month, above the budget of 160 EUR', { monthlyCost: 167, budget: 160, currency: 'EUR' });
    const fake = await renderBilling({
      tab: 'addons',
      waitFor: 'Turbo x1',
      routes: { 'POST /organization-subscription/addons': (b) => ((b as { overBudget?: boolean }).overBudget ? ok(b) : refuse()) },
    });
    await userEvent.click(screen.getByRole('button', { name: 'Add another Turbo x1' }));
    await userEvent.click(within(await screen.findByRole('dialog', { name: 'Add Turbo x1' })).getByRole('button', { name: 'Add Turbo x1' }));
    expect(await screen.findByText('Could not add Turbo x1: it would cost €167 a month, above your budget of €160')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Go ahead above the budget' }));
    expect(await screen.findByText('Turbo x1 added')).toBeInTheDocument();
    expect(fake.called('POST', '/organization-subscription/addons').map((c) => c.body)).toEqual([
      { addonId: 'turbo-x1' },
      { addonId: 'turbo-x1', overBudget: true },
    ]);
  });
});
