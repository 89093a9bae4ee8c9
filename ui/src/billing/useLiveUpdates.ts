/**
 * One event stream for the page's lifetime: each event goes to `onEvent` as it comes; when the
 * stream cannot be opened or breaks, `poll` runs every POLL_MS (at once, too, when a stream broke)
 * until it opens again (retried with back-off). A stream the API ends (a token expiring, a restart) is opened again at once, and its
 * first events are a full snapshot, so the page never keeps a view from before a break.
 */
import { useEffect, useRef, useState } from 'react';
import type { BillingApi } from '../api/client';
import { readEvents } from '../api/events';

export type LiveState = 'connecting' | 'live' | 'polling';

export const POLL_MS = 15000;
export const RETRY_MS = [1000, 3000, 10000, 30000];

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = window.setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      window.clearTimeout(timer);
      resolve();
    });
  });
}

export function useLiveUpdates(api: BillingApi, enabled: boolean, onEvent: (name: string, data: unknown) => void, poll: () => Promise<void>): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const handlers = useRef({ onEvent, poll });
  useEffect(() => {
    handlers.current = { onEvent, poll };
  });
  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    const stopped = () => abort.signal.aborted;
    let polling: number | undefined;
    const stopPolling = () => {
      window.clearInterval(polling);
      polling = undefined;
    };
    const run = async () => {
      let failures = 0;
      let followed = false; // the page's data came from a stream: read it again at once when that breaks
      while (!stopped()) {
        try {
          const body = await api.openEvents(abort.signal);
          failures = 0;
          followed = true;
          stopPolling();
          setState('live');
          await readEvents(body, (e) => {
            try {
              handlers.current.onEvent(e.event, JSON.parse(e.data));
            } catch {
              // not JSON: not an event of this API
            }
          });
          await pause(RETRY_MS[0] ?? 1000, abort.signal); // ended by the API: open it again
        } catch {
          if (stopped()) return;
          setState('polling');
          if (polling === undefined) {
            if (followed) void handlers.current.poll();
            polling = window.setInterval(() => void handlers.current.poll(), POLL_MS);
          }
          await pause(RETRY_MS[Math.min(failures, RETRY_MS.length - 1)] ?? POLL_MS, abort.signal);
          failures += 1;
        }
      }
    };
    void run();
    return () => {
      abort.abort();
      stopPolling();
    };
  }, [api, enabled]);
  return enabled ? state : 'connecting';
}
