/**
 * The page's notice: what the last action did or why it failed, with its one follow-up (Sign in
 * again after a 401, going ahead above the budget). Focusable, so focus can be put on it when the
 * button that started the action is gone (`useKeepFocus`).
 */
import { Alert, AlertActionCloseButton, AlertActionLink } from '@patternfly/react-core';
import { ApiError } from '../api/client';
import { NOTICE_ID } from './useKeepFocus';

export interface Notice {
  variant: 'success' | 'danger' | 'warning' | 'info';
  title: string;
  body?: string;
  /** One follow-up the notice offers (going ahead above the budget). */
  action?: { label: string; run: () => void };
  /** the session expired (401): offer "Sign in again" */
  expired?: boolean;
}


export function noticeOf(e: unknown, title: string): Notice {
  if (e instanceof ApiError && e.status === 401) {
    return { variant: 'danger', title: `${title}: your session has expired`, body: 'Sign in again, then repeat what you were doing.', expired: true };
  }
  if (e instanceof ApiError) {
    const violations = Array.isArray(e.details.violations) ? e.details.violations.length : 0;
    return { variant: 'danger', title: `${title}: ${e.message}`, ...(violations ? { body: `${violations} resource(s) in use exceed the new limits.` } : {}) };
  }
  return { variant: 'danger', title: `${title}: ${String(e)}` };
}

export function PageNotice({ notice, onSignIn, onClose }: { notice: Notice; onSignIn?: (() => void) | undefined; onClose: () => void }) {
  const action = notice.expired && onSignIn ? { label: 'Sign in again', run: onSignIn } : notice.action;
  return (
    <Alert
      component="h2"
      isInline
      variant={notice.variant}
      title={notice.title}
      id={NOTICE_ID}
      tabIndex={-1}
      className="oq-notice"
      {...(action ? { actionLinks: <AlertActionLink onClick={action.run}>{action.label}</AlertActionLink> } : {})}
      actionClose={<AlertActionCloseButton onClose={onClose} />}
    >
      {notice.body}
    </Alert>
  );
}
