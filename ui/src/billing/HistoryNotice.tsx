/** A card's own failure to load (usage history, alerts, plans, projects, ...): an inline notice in that card, with a retry, never a blank page. */
import { Alert, AlertActionLink } from '@patternfly/react-core';
import { ApiError } from '../api/client';

export function HistoryNotice({ what, error, onRetry }: { what: string; error: unknown; onRetry: () => void }) {
  const status = error instanceof ApiError ? error.status : 0;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <Alert
      component="h3"
      isInline
      variant={status === 503 ? 'warning' : 'danger'}
      title={status === 503 ? `${what} is unavailable right now` : `${what} could not be loaded`}
      actionLinks={<AlertActionLink onClick={onRetry}>Try again</AlertActionLink>}
      className="oq-notice"
      data-testid="history-notice"
    >
      {message}
      {status > 0 && ` (HTTP ${status})`}
    </Alert>
  );
}
