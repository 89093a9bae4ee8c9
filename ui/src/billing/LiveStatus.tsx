/** Whether the page follows changes as they happen, or reads them again every few seconds. */
import { Content } from '@patternfly/react-core';
import type { LiveState } from './useLiveUpdates';
import { POLL_MS } from './useLiveUpdates';

export function LiveStatus({ state }: { state: LiveState }) {
  return (
    <Content component="small" role="status" className="oq-live-status" data-state={state}>
      {state === 'live' && 'Live: changes show here as they happen.'}
      {state === 'polling' && `Live updates are unavailable; refreshing every ${String(POLL_MS / 1000)} s.`}
    </Content>
  );
}
