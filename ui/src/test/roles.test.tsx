import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';
import { fail, ok, subscriptionFixture } from './fakeApi';

const forbidden = () => fail(403, 'Organization admin rights required');

describe('who sees what, and errors', () => {
  it('a project user is told billing is the admins’ and sees only their projects', async () => {
    const fake = await renderBilling({
      waitFor: 'Your projects',
      routes: {
        'GET /organization-subscription': forbidden,
        'GET /plans': () => ok([]),
        'GET /projects': () => ok([{ namespace: 'acme-web', organization: 'acme', usage: { cpu: 2.5, memory: 6, pods: 9 } }]),
      },
    });
    expect(screen.getByText("Organization billing is managed by your organization's administrators")).toBeInTheDocument();
    const rows = screen.getAllByRole('row').map((r) => r.textContent);
    expect(rows).toEqual(['Project namespaceOrganizationCPUMemoryPods', 'acme-webacme2.5 cores6 Gi9']);
    expect(screen.queryByRole('tab')).not.toBeInTheDocument();
    expect(fake.called('GET', '/projects')).toHaveLength(1);
  });

  it('a guest gets a no-access message', async () => {
    await renderBilling({
      waitFor: 'No access to billing',
      routes: { 'GET /organization-subscription': forbidden, 'GET /projects': () => fail(403, 'No project access') },
    });
    expect(screen.getByRole('heading', { name: 'No access to billing' })).toBeInTheDocument();
  });

  it('an API error shows the envelope’s message and can be retried', async () => {
    let down = true;
    await renderBilling({
      waitFor: 'Kubernetes API unreachable',
      routes: { 'GET /organization-subscription': () => (down ? fail(503, 'Kubernetes API unreachable') : ok(subscriptionFixture())) },
    });
    expect(screen.getByText('HTTP 503')).toBeInTheDocument();
    down = false;
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('Scale Pool')).toBeInTheDocument();
    expect(screen.queryByText('Kubernetes API unreachable')).not.toBeInTheDocument();
  });

  it('an expired session offers to sign in again', async () => {
    const page = await renderBilling({
      waitFor: /Your session is no longer valid/,
      routes: { 'GET /config': () => fail(401, 'Token expired') },
    });
    expect(screen.getByText('Your session is no longer valid: Token expired')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Sign in again' }));
    expect(page.onSignIn).toHaveBeenCalledOnce();
  });

  it('the token goes in the Authorization header of every call', async () => {
    const fake = await renderBilling();
    expect(fake.calls.length).toBeGreaterThanOrEqual(4);
    expect(new Set(fake.calls.map((c) => c.authorization))).toEqual(new Set(['Bearer test-token']));
  });

  it('back from Stripe Checkout, verifies the session and says the outcome', async () => {
    window.history.replaceState(null, '', '/?sessionId=cs_test_42#overview');
    const asked: (string | null)[] = [];
    await renderBilling({
      routes: {
        'GET /verify-checkout': (_b, q) => {
          asked.push(q.get('sessionId'));
          return ok({ status: 'complete', planId: 'pro-pool', planName: 'Pro Pool' });
        },
      },
    });
    expect(await screen.findByText('Checkout complete: Pro Pool is active')).toBeInTheDocument();
    expect(asked).toEqual(['cs_test_42']);
    expect(window.location.search).toBe('');
    expect(window.location.hash).toBe('#overview');
  });

  it('an unfinished checkout says nothing changed', async () => {
    window.history.replaceState(null, '', '/?sessionId=cs_open');
    await renderBilling({ routes: { 'GET /verify-checkout': () => ok({ status: 'open' }) } });
    expect(await screen.findByText('Checkout not completed')).toBeInTheDocument();
    expect(screen.getByText('The payment session is open. No plan was changed.')).toBeInTheDocument();
  });
});
