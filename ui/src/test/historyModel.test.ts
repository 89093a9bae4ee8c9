import { describe, expect, it } from 'vitest';
import type { ResourceForecast } from '../api/types';
import { addedAddons, forecastLine, forecastText, limitAhead, withUnit } from '../billing/history';

const NOW = '2026-11-29T12:00:00Z';
const now = Date.parse(NOW) / 1000;
const DAY = 86400;

function forecast(patch: Partial<ResourceForecast> = {}): ResourceForecast {
  return {
    unit: 'cores',
    used: 9,
    limit: 10.3,
    ratePerDay: 0.1,
    runsOutAt: '2026-12-12T12:00:00Z',
    band: { earliest: '2026-12-11T00:00:00Z', latest: '2026-12-14T00:00:00Z' },
    fit: 0.99,
    enoughHistory: true,
    ...patch,
  };
}

describe('the forecast line', () => {
  it('goes from used now along the rate to when it runs out', () => {
    expect(forecastLine(forecast(), now, 30)).toEqual([
      [now, 9],
      [now + 13 * DAY, 9 + 1.3],
    ]);
  });

  it('stops at the horizon when that comes first, or when it never runs out', () => {
    expect(forecastLine(forecast(), now, 7)).toEqual([
      [now, 9],
      [now + 7 * DAY, 9 + 0.7],
    ]);
    expect(forecastLine(forecast({ runsOutAt: null, band: { earliest: null, latest: null } }), now, 7)?.[1]?.[0]).toBe(now + 7 * DAY);
  });

  it('is not drawn without enough history, without growth or when already full', () => {
    expect(forecastLine(forecast({ enoughHistory: false }), now, 30)).toBeNull();
    expect(forecastLine(forecast({ ratePerDay: 0, runsOutAt: null }), now, 30)).toBeNull();
    expect(forecastLine(forecast({ ratePerDay: -0.2, runsOutAt: null }), now, 30)).toBeNull();
    expect(forecastLine(forecast({ runsOutAt: NOW }), now, 30)).toBeNull();
    expect(forecastLine(undefined, now, 30)).toBeNull();
  });
});

describe('the limit ahead', () => {
  it('carries the last limit on to where the forecast ends, and only forward', () => {
    expect(limitAhead([[now - DAY, 8], [now, 10]], now + 5 * DAY)).toEqual([[now - DAY, 8], [now, 10], [now + 5 * DAY, 10]]);
    expect(limitAhead([[now, 10]], now)).toEqual([[now, 10]]);
    expect(limitAhead([], now + DAY)).toEqual([]);
  });
});

describe('the forecast in words', () => {
  it.each([
    [forecast(), 'Runs out around Dec 12, 2026'],
    [forecast({ runsOutAt: NOW }), 'The quota is full'],
    [forecast({ enoughHistory: false, ratePerDay: null, runsOutAt: null }), 'Not enough history yet for a forecast'],
    [forecast({ limit: null, runsOutAt: null }), 'No limit'],
    [forecast({ runsOutAt: null, ratePerDay: 0.001 }), 'Lasts more than a year at this rate'],
    [forecast({ runsOutAt: null, ratePerDay: -0.5 }), 'Not growing'],
  ])('%#: %s', (f, text) => {
    expect(forecastText(f, NOW)).toBe(text);
  });
});

describe('numbers and add-ons', () => {
  it('writes GiB as Gi and counts bare', () => {
    expect([withUnit(19.7, 'cores'), withUnit(90.25, 'GiB'), withUnit(23, 'count')]).toEqual(['19.7 cores', '90.3 Gi', '23']);
  });

  it('names what a suggestion adds to the add-ons held', () => {
    const held = [{ addonId: 'turbo-x1', quantity: 3 }, { addonId: 'turbo-x2', quantity: 2 }];
    expect(addedAddons(held, [{ addonId: 'turbo-x1', quantity: 3 }, { addonId: 'turbo-x2', quantity: 5 }])).toEqual([['turbo-x2', 3]]);
    expect(addedAddons([], [{ addonId: 'turbo-x1', quantity: 1 }])).toEqual([['turbo-x1', 1]]);
    expect(addedAddons(held, held)).toEqual([]);
  });
});
