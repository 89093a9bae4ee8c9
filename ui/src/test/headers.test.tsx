import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { User } from 'oidc-client-ts';
import { App } from '../App';
import type { Auth } from '../auth/oidc';
import { header, listed } from '../billing/audience';
import { fail, fakeBilling, ok, type FakeOptions } from './fakeApi';

const forbidden = () => fail(403, 'Organization admin rights required');
const project = (namespace: string, organization = 'acme') => ({ namespace, organization, usage: { cpu: 1, memory: 1, pods: 1 } });

/** The whole page, signed in, over the fake API. */
async function signedIn(routes: FakeOptions['routes'], waitFor: string) {
  const fake = fakeBilling({ routes });
  vi.stubGlobal('fetch', fake.fetchFn);
  const auth = {
    start: () => Promise.resolve({ profile: { sub: 'u1', preferred_username: 'ann' } } as unknown as User),
    signIn: vi.fn(() => Promise.resolve()),
    signOut: vi.fn(() => Promise.resolve()),
    shouldAutoSignIn: () => false,
    accessToken: () => 'test-token',
  } satisfies Auth;
  render(<App auth={auth} backendURL="" />);
  await screen.findByText(waitFor);
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the header speaks to whoever is signed in', () => {
  it('an organization admin: billing and subscriptions', async () => {
    await signedIn({}, 'Scale Pool');
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Billing & Subscriptions');
    expect(screen.getByTestId('page-intro')).toHaveTextContent('manage subscriptions');
  });

  it('a project user: their projects by name, and what they see here', async () => {
    await signedIn({ 'GET /organization-subscription': forbidden, 'GET /projects': () => ok([project('acme-web'), project('acme-data')]) }, 'Your projects');
    expect(await screen.findByRole('heading', { level: 1, name: 'Your projects' })).toBeInTheDocument();
    const intro = screen.getByTestId('page-intro');
    expect(intro).toHaveTextContent('You work in projects acme-web and acme-data of organization acme.');
    expect(intro).toHaveTextContent("the plan, payments and add-ons are managed by the organization's administrators");
    expect(intro).not.toHaveTextContent('manage subscriptions');
  });

  it('a guest: not in an organization, and who to ask', async () => {
    await signedIn({ 'GET /organization-subscription': forbidden, 'GET /projects': () => fail(403, 'No project access') }, 'No access to billing');
    await screen.findByText(/not in any organization/);
    const intro = screen.getByTestId('page-intro');
    expect(intro).toHaveTextContent('your account is not in any organization or project');
    expect(intro).toHaveTextContent("Ask your organization's administrator to add you");
  });
});

describe('the header’s words', () => {
  it('names one project, several, and many', () => {
    expect(header({ kind: 'project', projects: [project('acme-web')] })).toEqual({
      title: 'Project acme-web',
      intro: "You work in project acme-web of organization acme. Here you see what it uses; the plan, payments and add-ons are managed by the organization's administrators.",
    });
    expect(listed(['a', 'b', 'c'])).toBe('a, b and c');
    expect(listed(['a', 'b', 'c', 'd', 'e'])).toBe('a, b and 3 more');
    expect(header({ kind: 'project', projects: [project('a', 'acme'), project('b', 'beta')] }).intro).toContain('You work in projects a and b. ');
    expect(header({ kind: 'project', projects: [] }).intro).toContain('none of its projects exists yet');
  });
});
