import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { renderBilling } from './render';
import { ok, subscriptionFixture } from './fakeApi';

const card = (id: string) => within(screen.getByTestId(`addon-${id}`));

describe('Turbo Add-ons tab', () => {
  it('shows a card per add-on with what it adds, its price and how many are active', async () => {
    await renderBilling({ tab: 'addons', waitFor: 'Turbo x1' });
    const x1 = card('turbo-x1');
    expect(x1.getByText('Active × 3')).toBeInTheDocument();
    expect(x1.getByText('€9')).toBeInTheDocument();
    expect(x1.getByText('+2 cores')).toBeInTheDocument();
    expect(x1.getByText('+4 Gi')).toBeInTheDocument();
    expect(x1.getByText('+20 Gi')).toBeInTheDocument();
    expect(card('turbo-x2').getByText('Active × 2')).toBeInTheDocument();
    expect(x1.getByRole('button', { name: 'Add another Turbo x1' })).toHaveTextContent('Add Another');
    expect(x1.getByRole('button', { name: 'Remove 1 Turbo x1' })).toBeInTheDocument();
  });

  it('an add-on not yet bought has Add and no Remove', async () => {
    await renderBilling({ tab: 'addons', waitFor: 'Turbo x1', subscription: subscriptionFixture({ addons: [{ addonId: 'turbo-x2', quantity: 1 }] }) });
    const x1 = card('turbo-x1');
    expect(x1.queryByText(/Active ×/)).not.toBeInTheDocument();
    expect(x1.getByRole('button', { name: 'Add Turbo x1' })).toBeEnabled();
    expect(x1.queryByRole('button', { name: /Remove/ })).not.toBeInTheDocument();
  });

  it('Add Another says what it costs, then adds one', async () => {
    const fake = await renderBilling({ tab: 'addons', waitFor: 'Turbo x1' });
    await userEvent.click(screen.getByRole('button', { name: 'Add another Turbo x2' }));
    const d = within(await screen.findByRole('dialog', { name: 'Add Turbo x2' }));
    expect(d.getByText(/€158 →/)).toHaveTextContent('€158 → €174 (+€16)');
    expect(fake.called('POST', '/simulate-downgrade')).toHaveLength(0);
    await userEvent.click(d.getByRole('button', { name: 'Add Turbo x2' }));
    expect(fake.called('POST', '/organization-subscription/addons')[0]?.body).toEqual({ addonId: 'turbo-x2' });
    expect(await screen.findByText('Turbo x2 added')).toBeInTheDocument();
  });

  it('Remove 1 checks what the smaller quota would still hold, then removes one', async () => {
    const fake = await renderBilling({
      tab: 'addons',
      waitFor: 'Turbo x1',
      routes: { 'POST /simulate-downgrade': () => ok({ fits: true, violations: [] }) },
    });
    await userEvent.click(screen.getByRole('button', { name: 'Remove 1 Turbo x1' }));
    const d = within(await screen.findByRole('dialog', { name: 'Remove one Turbo x1' }));
    expect(await d.findByText('Current usage fits the new limits.')).toBeInTheDocument();
    expect(fake.called('POST', '/simulate-downgrade')[0]?.body).toEqual({
      planId: 'scale-pool',
      addons: [
        { addonId: 'turbo-x1', quantity: 2 },
        { addonId: 'turbo-x2', quantity: 2 },
      ],
    });
    expect(d.getByText(/€158 →/)).toHaveTextContent('€158 → €149 (−€9)');
    await userEvent.click(d.getByRole('button', { name: 'Remove 1' }));
    expect(fake.called('DELETE', '/organization-subscription/addons/turbo-x1')).toHaveLength(1);
  });

  it('has no add-on buttons without a provider', async () => {
    await renderBilling({ tab: 'addons', waitFor: 'Turbo x1', provider: 'none' });
    expect(card('turbo-x1').getByText('Active × 3')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Add|Remove/ })).not.toBeInTheDocument();
  });
});

describe('after a change', () => {
  it('reads the subscription again when the provider has had time to confirm it', async () => {
    const fake = await renderBilling({ tab: 'addons', waitFor: 'Turbo x1' });
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      await userEvent.click(screen.getByRole('button', { name: 'Add another Turbo x2' }));
      await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Add Turbo x2' }));
      await screen.findByText('Turbo x2 added');
      const reads = () => fake.called('GET', '/organization-subscription').length;
      const before = reads();
      await vi.advanceTimersByTimeAsync(3000);
      expect(reads()).toBe(before + 1);
      await vi.advanceTimersByTimeAsync(7000);
      expect(reads()).toBe(before + 2);
    } finally {
      vi.useRealTimers();
    }
  });
});
