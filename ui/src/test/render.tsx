import { render, screen } from '@testing-library/react';
import { vi } from 'vitest';
import { BillingRoot } from '../billing/BillingRoot';
import type { TabKey } from '../billing/BillingPage';
import { fakeBilling, type FakeOptions } from './fakeApi';

/** The page as an org admin (or whoever the fake API says) sees it, loaded. */
export async function renderBilling(opts: FakeOptions & { tab?: TabKey; waitFor?: string | RegExp } = {}) {
  const fake = fakeBilling(opts);
  const navigate = vi.fn<(url: string) => void>();
  const onSignIn = vi.fn<() => void>();
  render(<BillingRoot api={fake.api} onSignIn={onSignIn} navigate={navigate} {...(opts.tab ? { initialTab: opts.tab } : {})} />);
  await screen.findByText(opts.waitFor ?? 'Overview');
  return { ...fake, navigate, onSignIn };
}
