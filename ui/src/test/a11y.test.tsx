/**
 * axe-core's rules over every tab and the confirmation modal, in jsdom. Colour contrast
 * needs a real layout engine and is checked in a browser, not here.
 */
import axe from 'axe-core';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';
import type { TabKey } from '../billing/BillingPage';

async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('accessibility (axe-core)', () => {
  const tabs: [TabKey, string][] = [
    ['overview', 'Resource Usage'],
    ['subscription', 'sub_1QfakeScale'],
    ['plans', 'Dev Pool'],
    ['addons', 'Turbo x1'],
    ['projects', 'acme-web'],
  ];
  it.each(tabs)('the %s tab has no violations', async (tab, waitFor) => {
    await renderBilling({ tab, waitFor });
    expect(await violations()).toEqual([]);
  });

  it('the cap modal with its dry run has no violations', async () => {
    await renderBilling({ tab: 'projects', waitFor: 'acme-web' });
    await userEvent.click(screen.getByRole('button', { name: 'Edit cap of acme-web' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Check' }));
    await screen.findByText('What runs now fits the cap.');
    expect(await violations()).toEqual([]);
  });

  it('the downgrade modal has no violations', async () => {
    await renderBilling({ tab: 'plans', waitFor: 'Dev Pool' });
    await userEvent.click(screen.getByRole('button', { name: 'Switch to Dev Pool' }));
    await screen.findByText('Current usage fits the new limits.');
    expect(await violations()).toEqual([]);
  });
});
