import { describe, expect, it } from 'vitest';
import { cores, gib, money, parseQuantity, resourceValue, usageLevel, usagePercent } from '../billing/format';
import { monthlyTotal, shrinks, sold, withAddonDelta } from '../billing/model';
import fixtures from '../../dev/fixtures.json';
import type { Plan } from '../api/types';

describe('usage levels', () => {
  it('below 75 % is success, 75 to 90 % warning, above 90 % danger', () => {
    expect([0, 74, 75, 90, 91, 150].map(usageLevel)).toEqual(['success', 'success', 'warning', 'warning', 'danger', 'danger']);
  });

  it('percent of the limit, rounded; none without a limit', () => {
    expect(usagePercent({ used: 19.7, limit: 35 })).toBe(56);
    expect(usagePercent({ used: 3, limit: 3 })).toBe(100);
    expect(usagePercent({ used: 1, limit: null })).toBeNull();
    expect(usagePercent({ used: 1, limit: 0 })).toBe(100);
    expect(usagePercent({ used: 0, limit: 0 })).toBe(0);
  });
});

describe('amounts', () => {
  it('money in the currency given, cents only when there are any', () => {
    expect(money(158, 'EUR')).toBe('€158');
    expect(money(9.5, 'USD')).toBe('$9.50');
    expect(money(3, 'NOT')).toMatch(/^NOT\s3$/);
    expect(money(3, 'euro')).toBe('3 euro');
  });

  it("money with the currency's own decimals: JPY 0, EUR 2, KWD 3", () => {
    expect(money(28000, 'JPY')).toBe('¥28,000');
    expect(money(179.5, 'EUR')).toBe('€179.50');
    expect(money(55.125, 'KWD')).toMatch(/^KWD\s55\.125$/);
    expect(money(16.25, 'KWD')).toMatch(/^KWD\s16\.250$/);
    expect(money(88.14, 'KWD')).toMatch(/^KWD\s88\.140$/);
  });

  it('Kubernetes quantities for people', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('4Gi')).toBe(4 * 2 ** 30);
    expect(parseQuantity('1e3')).toBeNull();
    expect(cores('2')).toBe('2 cores');
    expect(cores('1')).toBe('1 core');
    expect(gib('512Mi')).toBe('0.5 Gi');
    expect(gib('1Ti')).toBe('1024 Gi');
    expect(resourceValue('memory', 42.25)).toBe('42.3 Gi');
    expect(resourceValue('requests.memory', '40Gi')).toBe('40Gi');
  });
});

describe('what a change sells and costs', () => {
  const plans = fixtures.plans as Plan[];
  const scale = plans.find((p) => p.id === 'scale-pool');
  const dev = plans.find((p) => p.id === 'dev-pool');
  const entries = fixtures.subscription.addons;

  it('plan plus add-ons', () => {
    expect(sold(scale, entries, fixtures.addons)).toEqual({ cpu: 30, memory: 84, storage: 460, pods: 500, ipv4: 3 });
    expect(monthlyTotal(scale, entries, fixtures.addons)).toBe(158);
  });

  it('one add-on more or less', () => {
    expect(withAddonDelta(entries, 'turbo-x1', -1)).toEqual([
      { addonId: 'turbo-x1', quantity: 2 },
      { addonId: 'turbo-x2', quantity: 2 },
    ]);
    expect(withAddonDelta([{ addonId: 'turbo-x1', quantity: 1 }], 'turbo-x1', -1)).toEqual([]);
    expect(withAddonDelta([], 'turbo-x2', 1)).toEqual([{ addonId: 'turbo-x2', quantity: 1 }]);
  });

  it('a downgrade shrinks something; no current plan counts as shrinking', () => {
    expect(shrinks(sold(scale, entries, fixtures.addons), sold(dev, entries, fixtures.addons))).toBe(true);
    expect(shrinks(sold(dev, [], fixtures.addons), sold(scale, [], fixtures.addons))).toBe(false);
    expect(shrinks(null, sold(dev, [], fixtures.addons))).toBe(true);
  });
});
