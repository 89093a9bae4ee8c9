/**
 * The usage-over-time cards over the fake API. The chart itself is a stand-in here that shows the
 * props it was given (jsdom draws a Victory chart in about half a second); usageChart.test.tsx
 * draws the real one.
 */
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { SuggestionKind } from '../api/types';
import type { UsageChartProps } from '../billing/UsageChart';
import { fail, ok, subscriptionFixture } from './fakeApi';
import { renderBilling } from './render';
import fixtures from '../../dev/fixtures.json';

vi.mock('../billing/UsageChart', () => ({
  default: ({ label, title, used, limit, forecast, span }: UsageChartProps) => (
    <figure data-testid={`usage-chart-${label}`} aria-label={title} data-span={span.join(' ')}>
      <span data-testid="used">{used.length}</span>
      <span data-testid="limit">{limit.length}</span>
      <span data-testid="forecast">{JSON.stringify(forecast)}</span>
    </figure>
  ),
}));

const HISTORY_ROUTES = ['/usage-history', '/forecast', '/recommendations'];

const card = (testId: string) => within(screen.getByTestId(testId));

describe('usage over time on the Overview', () => {
  it('is not there, and not asked for, when the API has no history', async () => {
    const { calls } = await renderBilling();
    expect(screen.getByText('Resource Usage')).toBeInTheDocument();
    expect(screen.queryByText('Usage over time')).not.toBeInTheDocument();
    expect(screen.queryByText('Plan advice')).not.toBeInTheDocument();
    expect(calls.filter((c) => HISTORY_ROUTES.includes(c.path))).toEqual([]);
  });

  it('charts each resource over 30 days with its limit and, where one is known, the forecast', async () => {
    const { calls } = await renderBilling({ history: true });
    expect(calls.filter((c) => c.path === '/usage-history')).toHaveLength(6);
    const chart = (label: string) => within(screen.getByRole('figure', { name: `${label} over the last 30 days` }));
    await screen.findByRole('figure', { name: 'CPU over the last 30 days' });
    expect(chart('CPU').getByTestId('used')).toHaveTextContent('181');
    // the limit goes on where the forecast goes; without a forecast it ends with the samples
    expect(chart('CPU').getByTestId('limit')).toHaveTextContent('182');
    expect(chart('Pods').getByTestId('used')).toHaveTextContent('31');
    expect(chart('Pods').getByTestId('limit')).toHaveTextContent('31');
    const now = Date.parse('2026-11-29T12:00:00Z') / 1000;
    // memory runs out within the 30 days shown ahead: the line ends then; CPU later: it ends 30 days ahead
    const memoryEnd = Date.parse('2026-12-12T12:00:00Z') / 1000;
    const memory = JSON.parse(chart('Memory').getByTestId('forecast').textContent) as number[][];
    expect(memory[0]).toEqual([now, 70.4]);
    expect(memory[1]?.[0]).toBe(memoryEnd);
    expect(memory[1]?.[1]).toBeCloseTo(70.4 + (1.6 * (memoryEnd - now)) / 86400, 6);
    const cpu = JSON.parse(chart('CPU').getByTestId('forecast').textContent) as number[][];
    expect(cpu).toEqual([[now, 19.7], [now + 30 * 86400, 19.7 + 0.45 * 30]]);
    expect(screen.getByRole('figure', { name: 'CPU over the last 30 days' })).toHaveAttribute('data-span', `${String(now - 30 * 86400)} ${String(now + 30 * 86400)}`);
    for (const label of ['Pods', 'Load balancers', 'Public IPv4']) expect(chart(label).getByTestId('forecast')).toHaveTextContent('null');

    expect(card('history-cpu').getByText(/19\.7 cores of 35 cores now/)).toBeInTheDocument();
    expect(screen.getByTestId('outlook-cpu')).toHaveTextContent('Runs out around Jan 2, 2027');
    expect(screen.getByTestId('outlook-memory')).toHaveTextContent('Runs out around Dec 12, 2026');
    expect(screen.getByTestId('outlook-pods')).toHaveTextContent('Not enough history yet for a forecast');
    expect(screen.getByTestId('outlook-services_loadbalancers')).toHaveTextContent('Not growing');
    expect(screen.getByTestId('outlook-public_ipv4')).toHaveTextContent('The quota is full');
  });

  it('asks again for 7 or 90 days', async () => {
    const { calls } = await renderBilling({ history: true });
    await screen.findByRole('figure', { name: 'CPU over the last 30 days' });
    const history = () => calls.filter((c) => c.path === '/usage-history').length;
    expect(history()).toBe(6);
    await userEvent.click(screen.getByRole('button', { name: '7 days' }));
    expect(await screen.findByRole('figure', { name: 'CPU over the last 7 days' })).toBeInTheDocument();
    expect(within(screen.getByRole('figure', { name: 'CPU over the last 7 days' })).getByTestId('used')).toHaveTextContent('169');
    expect(screen.getByRole('button', { name: '7 days' })).toHaveAttribute('aria-pressed', 'true');
    expect(history()).toBe(12);
    await userEvent.click(screen.getByRole('button', { name: '90 days' }));
    expect(await screen.findByRole('figure', { name: 'Memory over the last 90 days' })).toBeInTheDocument();
    expect(history()).toBe(18);
  });

  it('a 503 of the history is a notice in its card only', async () => {
    const { called } = await renderBilling({
      history: true,
      advice: 'downgrade',
      routes: { 'GET /usage-history': () => fail(503, 'usage history is unavailable: Prometheus did not answer in time') },
    });
    const notice = await card('usage-history').findByTestId('history-notice');
    expect(notice).toHaveTextContent('Usage history is unavailable right now');
    expect(notice).toHaveTextContent('Prometheus did not answer in time (HTTP 503)');
    expect(await card('plan-advice').findByText(/Pro Pool fits/)).toBeInTheDocument();
    expect(screen.getByRole('progressbar', { name: 'CPU' })).toBeInTheDocument();
    const before = called('GET', '/usage-history').length;
    await userEvent.click(within(notice).getByRole('button', { name: 'Try again' }));
    await card('usage-history').findByTestId('history-notice');
    expect(called('GET', '/usage-history').length).toBe(before + 6);
  });

  it('a 503 of the forecast still draws the history, without forecasts', async () => {
    await renderBilling({ history: true, routes: { 'GET /forecast': () => fail(503, 'usage history is unavailable: Prometheus refused the query') } });
    expect(await card('usage-history').findByText('The forecast is unavailable right now')).toBeInTheDocument();
    const cpu = await screen.findByTestId('usage-chart-CPU');
    expect(within(cpu).getByTestId('forecast')).toHaveTextContent('null');
    expect(within(cpu).getByTestId('used')).toHaveTextContent('181');
    expect(screen.queryByTestId('outlook-cpu')).not.toBeInTheDocument();
  });

  it('a 503 of the advice is a notice in the advice card only', async () => {
    await renderBilling({ history: true, routes: { 'GET /recommendations': () => fail(503, 'usage history is unavailable: Prometheus refused the query') } });
    expect(await card('plan-advice').findByText('Plan advice is unavailable right now')).toBeInTheDocument();
    expect(await screen.findByTestId('usage-chart-CPU')).toBeInTheDocument();
  });
});

describe('plan advice', () => {
  const cases: [SuggestionKind, string, string][] = [
    ['downgrade', 'Pro Pool fits: saves €50 a month; nothing would stop fitting', 'Compare plans'],
    ['upgrade', 'Upgrade to Scale Pool: +€50 a month', 'Compare plans'],
    ['addon', 'Add 3 × Turbo x2: +€48 a month', 'See add-ons'],
  ];
  it.each(cases)('%s: says what it costs or saves, why, and where to act', async (kind, title, action) => {
    const subscription = kind === 'upgrade' ? subscriptionFixture({ planId: 'pro-pool', planName: 'Pro Pool' }) : subscriptionFixture();
    await renderBilling({ history: true, advice: kind, subscription });
    const advice = await card('plan-advice').findByTestId(`advice-${kind}`);
    expect(within(advice).getByRole('heading', { name: new RegExp(title.replace(/[+$]/g, '\\$&')) })).toBeInTheDocument();
    expect(advice).toHaveTextContent(fixtures.history.recommendations[kind].suggestion.reason);
    await userEvent.click(within(advice).getByRole('button', { name: action }));
    const tab = action === 'See add-ons' ? 'Turbo Add-ons' : 'Available Plans';
    expect(screen.getByRole('tab', { name: tab })).toHaveAttribute('aria-selected', 'true');
  });

  it('none: only a quiet line with the reason', async () => {
    await renderBilling({ history: true, advice: 'none' });
    const line = await card('plan-advice').findByTestId('advice-none');
    expect(line).toHaveTextContent(fixtures.history.recommendations.none.suggestion.reason);
    expect(card('plan-advice').queryByRole('heading', { level: 3 })).not.toBeInTheDocument();
    expect(card('plan-advice').queryByRole('button')).not.toBeInTheDocument();
  });

  it('a cheaper plan that current usage does not fit yet names what would not fit', async () => {
    const answer = structuredClone(fixtures.history.recommendations.downgrade);
    answer.suggestion.simulate = { fits: false, violations: [{ resource: 'requests.cpu', used: 19.7, newLimit: 18 }] } as never;
    await renderBilling({ history: true, routes: { 'GET /recommendations': () => ok(answer) } });
    expect(await card('plan-advice').findByText('Pro Pool saves €50 a month, but CPU in use would not fit yet')).toBeInTheDocument();
  });

  it('money is in the currency the answer names, with its own decimals', async () => {
    const answer = structuredClone(fixtures.history.recommendations.upgrade);
    answer.current.currency = 'KWD';
    answer.suggestion.monthlyCostDelta = 15.125;
    const subscription = subscriptionFixture({ planId: 'pro-pool', planName: 'Pro Pool' });
    await renderBilling({ history: true, subscription, routes: { 'GET /recommendations': () => ok(answer) } });
    const advice = await card('plan-advice').findByTestId('advice-upgrade');
    expect(within(advice).getByRole('heading', { name: /Upgrade to Scale Pool: \+KWD\s15\.125 a month/ })).toBeInTheDocument();
  });
});
