import { act, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { readEvents, type ServerEvent } from '../api/events';
import { renderBilling } from './render';
import { subscriptionFixture } from './fakeApi';
import { fakeEvents } from './fakeEvents';

function chunks(...parts: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(encoder.encode(p));
      c.close();
    },
  });
}

const cpuBar = () => screen.getByRole('progressbar', { name: 'CPU' }).closest('.pf-v6-c-progress');

describe('the event stream reader', () => {
  it('reads events split anywhere, skips the heartbeat, and takes any line ending', async () => {
    const seen: ServerEvent[] = [];
    await readEvents(chunks(': ping\r\n\r\nevent: usa', 'ge\r\ndata: {"a":1}\r', '\n\r\nevent: catalog\ndata: [1]\n\ndata: x\r\rdata'), (e) => seen.push(e));
    expect(seen).toEqual([
      { event: 'usage', data: '{"a":1}' },
      { event: 'catalog', data: '[1]' },
      { event: 'message', data: 'x' },
    ]);
  });
});

describe('a live page', () => {
  it('moves a usage bar when the API sends a change, without a reload', async () => {
    const events = fakeEvents();
    const { called } = await renderBilling({ events });
    expect(await screen.findByText('Live: changes show here as they happen.')).toBeInTheDocument();
    expect(cpuBar()).toHaveTextContent('19.7 / 35 cores (56%)');
    const sub = subscriptionFixture();
    sub.usage = { ...sub.usage, cpu: { used: 31, limit: 35 } };
    act(() => {
      events.send('subscription', sub);
    });
    expect(await screen.findByText('31 / 35 cores (89%)')).toBeInTheDocument();
    expect(called('GET', '/organization-subscription')).toHaveLength(1); // pushed, not read again
  });

  it('falls back to polling when the stream breaks, and follows the stream again when it returns', async () => {
    const events = fakeEvents();
    const { called } = await renderBilling({ events });
    await screen.findByText('Live: changes show here as they happen.');
    act(() => {
      events.fail();
    });
    expect(await screen.findByText('Live updates are unavailable; refreshing every 15 s.')).toBeInTheDocument();
    expect(called('GET', '/organization-subscription').length).toBeGreaterThanOrEqual(2); // read at once when it broke
    events.restore();
    expect(await screen.findByText('Live: changes show here as they happen.', {}, { timeout: 5000 })).toBeInTheDocument();
    expect(events.opened()).toBe(2);
  });

  it('marks a requested plan change pending until the subscription shows it', async () => {
    const events = fakeEvents();
    await renderBilling({ events, tab: 'plans' });
    await userEvent.click(await screen.findByRole('button', { name: /Switch to Pro Pool|Upgrade to Pro Pool/ }));
    await userEvent.click(await screen.findByRole('button', { name: 'Switch to Pro Pool' }));
    await userEvent.click(screen.getByRole('tab', { name: 'Overview' }));
    expect(await screen.findByText("Change pending: waiting for the payment provider's confirmation")).toBeInTheDocument();
    act(() => {
      events.send('subscription', subscriptionFixture({ planId: 'pro-pool', planName: 'Pro Pool' }));
    });
    expect(await screen.findByText('Pro Pool')).toBeInTheDocument();
    expect(screen.queryByTestId('pending-notice')).toBeNull();
  });
});
