import { describe, expect, it } from 'vitest';
import { ApiError, BillingApi, type FetchLike } from '../api/client';

const answer = (status: number, body: string): FetchLike => () => Promise.resolve(new Response(body, { status }));

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('BillingApi', () => {
  it('unwraps data, and config for /config', async () => {
    const api = new BillingApi('', () => null, answer(200, '{"success":true,"data":[1,2]}'));
    expect(await api.plans()).toEqual([1, 2]);
    const cfg = new BillingApi('', () => null, answer(200, '{"success":true,"config":{"provider":"none"}}'));
    expect(await cfg.config()).toEqual({ provider: 'none' });
  });

  it('calls the configured backend with the bearer token and a JSON body', async () => {
    let seen: { url: string; init: RequestInit | undefined } | undefined;
    const api = new BillingApi('https://api.example', () => 'tok', (url, init) => {
      seen = { url, init };
      return Promise.resolve(new Response('{"success":true,"data":{"fits":true,"violations":[]}}'));
    });
    await api.simulateDowngrade('dev-pool', [{ addonId: 'turbo-x1', quantity: 1 }]);
    expect(seen?.url).toBe('https://api.example/api/billing/simulate-downgrade');
    expect(seen?.init?.method).toBe('POST');
    expect(seen?.init?.headers).toMatchObject({ Authorization: 'Bearer tok', 'Content-Type': 'application/json' });
    expect(JSON.parse(seen?.init?.body as string)).toEqual({ planId: 'dev-pool', addons: [{ addonId: 'turbo-x1', quantity: 1 }] });
  });

  it('sends no Authorization header without a token, and escapes path parts', async () => {
    let seen: { url: string; init: RequestInit | undefined } | undefined;
    const api = new BillingApi('', () => null, (url, init) => {
      seen = { url, init };
      return Promise.resolve(new Response('{"success":true,"data":{}}'));
    });
    await api.removeAddon('a/b');
    expect(seen?.url).toBe('/api/billing/organization-subscription/addons/a%2Fb');
    expect(seen?.init?.headers).not.toHaveProperty('Authorization');
  });

  it('turns an error envelope into an ApiError with its message, status and details', async () => {
    const body = JSON.stringify({ success: false, error: 'Access denied to namespace', details: { namespace: 'x' }, timestamp: 't' });
    const e = await failure(new BillingApi('', () => 't', answer(403, body)).projects());
    expect(e.message).toBe('Access denied to namespace');
    expect(e.status).toBe(403);
    expect(e.details).toEqual({ namespace: 'x' });
  });

  it('names an answer without JSON, and an unreachable API', async () => {
    const html = await failure(new BillingApi('', () => 't', answer(502, '<html>bad gateway</html>')).plans());
    expect(html.message).toBe('The billing API answered HTTP 502 without JSON (GET /plans)');
    expect(html.status).toBe(502);
    const down = await failure(new BillingApi('http://api', () => 't', () => Promise.reject(new TypeError('Failed to fetch'))).plans());
    expect(down.message).toBe('Cannot reach the billing API (GET http://api/api/billing/plans)');
    expect(down.status).toBe(0);
  });

  it('treats a 200 without success: true as an error', async () => {
    const e = await failure(new BillingApi('', () => 't', answer(200, '{"data":1}')).plans());
    expect(e.message).toBe('HTTP 200 from GET /plans');
  });
});
