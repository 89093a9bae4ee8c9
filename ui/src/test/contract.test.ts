/**
 * The fake API of these tests against the API's own OpenAPI document (src/api/generated/openapi.json,
 * which `make lint` keeps equal to the API's): every answer it gives, and the events it streams, must
 * validate, so the page is never tested against answers the API cannot give.
 */
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import openapi from '../api/generated/openapi.json';
import { fakeBilling, subscriptionFixture } from './fakeApi';
import fixtures from '../../dev/fixtures.json';

const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(openapi, 'openapi');

const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

function check(ref: string, value: unknown): string[] {
  const validate = ajv.getSchema(`openapi#/${ref}`);
  if (!validate) throw new Error(`no schema at ${ref}`);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

const answerOf = (method: string, path: string) => pointer('paths', `/api/billing${path}`, method.toLowerCase(), 'responses', '200', 'content', 'application/json', 'schema');

const ROUTES: [string, string, unknown?][] = [
  ['GET', '/config'],
  ['GET', '/plans'],
  ['GET', '/addons'],
  ['GET', '/organization-subscription'],
  ['GET', '/projects'],
  ['GET', '/quota-status'],
  ['POST', '/simulate-downgrade', { planId: 'dev-pool', addons: [] }],
  ['POST', '/organization-subscription', { planId: 'pro-pool', addons: [] }],
  ['DELETE', '/organization-subscription'],
  ['POST', '/customer-portal'],
];

describe("the fake API answers as the API's document says", () => {
  it.each(ROUTES)('%s %s', async (method, path, body) => {
    const { fetchFn } = fakeBilling({ history: true });
    const init: RequestInit = { method, ...(body ? { body: JSON.stringify(body) } : {}) };
    const json: unknown = await (await fetchFn(`/api/billing${path}`, init)).json();
    expect(check(answerOf(method, path), json)).toEqual([]);
  });

  it('its events are LiveEvents', () => {
    const events = { catalog: { plans: fixtures.plans, addons: fixtures.addons }, subscription: subscriptionFixture(), projects: fixtures.projects };
    expect(check(pointer('components', 'schemas', 'LiveEvents'), events)).toEqual([]);
  });

  it('a wrong answer does not validate', () => {
    expect(check(pointer('components', 'schemas', 'Subscription'), { ...subscriptionFixture(), pending: 'no' })).not.toEqual([]);
  });
});
