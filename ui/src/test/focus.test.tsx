import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';
import { ok, subscriptionFixture, type FakeOptions } from './fakeApi';
import type { OrganizationSubscription } from '../api/types';
import { focusTarget } from '../billing/useKeepFocus';
import { Shell } from '../Shell';

/** Routes where `change` answers `answer` and, from then on, the subscription is `after`. */
function changing(change: string, after: Partial<OrganizationSubscription>, answer: unknown): FakeOptions['routes'] {
  let sub = subscriptionFixture();
  return {
    'GET /organization-subscription': () => ok(sub),
    [change]: () => {
      sub = subscriptionFixture(after);
      return ok(answer);
    },
  };
}

describe('focus is kept when the button that opened a dialog goes away', () => {
  it('after a plan change, focus moves from the vanished "Switch to" to the notice, not <body>', async () => {
    const routes = changing('PUT /organization-subscription', { planId: 'pro-pool', planName: 'Pro Pool' }, { subscriptionId: 'sub_1QfakeScale', planId: 'pro-pool', pending: true });
    await renderBilling({ tab: 'plans', waitFor: 'Switch to Pro Pool', routes });
    await userEvent.click(screen.getByRole('button', { name: 'Switch to Pro Pool' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Switch to Pro Pool' }));
    await waitFor(() => {
      expect(screen.queryByRole('button', { name: 'Switch to Pro Pool' })).toBeNull();
    });
    const notice = screen.getByRole('heading', { name: /Plan change to Pro Pool requested/ }).closest('.oq-notice');
    await waitFor(() => {
      expect(document.activeElement).toBe(notice);
    });
  });

  it('after canceling, focus moves from the vanished Cancel to the notice', async () => {
    const end = { status: 'canceling', periodEnd: '2026-12-31T00:00:00Z' };
    await renderBilling({ tab: 'subscription', waitFor: 'sub_1QfakeScale', routes: changing('DELETE /organization-subscription', end, end) });
    await userEvent.click(screen.getByRole('button', { name: 'Cancel Subscription' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Cancel at period end' }));
    await waitFor(() => {
      expect(screen.queryByRole('button', { name: 'Cancel Subscription' })).toBeNull();
    });
    await waitFor(() => {
      expect(document.activeElement).toHaveClass('oq-notice');
    });
    expect(document.activeElement).not.toBe(document.body);
  });

  it('a dialog closed without a change gives focus back to its opener, which is still there', async () => {
    await renderBilling({ tab: 'plans', waitFor: 'Switch to Pro Pool' });
    const opener = screen.getByRole('button', { name: 'Switch to Pro Pool' });
    await userEvent.click(opener);
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Keep current' }));
    await waitFor(() => {
      expect(document.activeElement).toBe(opener);
    });
  });
});

describe('where lost focus goes', () => {
  it('the notice when there is one, else the page heading', () => {
    render(
      <Shell>
        <p>content</p>
      </Shell>,
    );
    expect(focusTarget()).toBe(screen.getByRole('heading', { level: 1 }));
    focusTarget()?.focus();
    expect(document.activeElement).toBe(screen.getByRole('heading', { level: 1 }));
  });
});
