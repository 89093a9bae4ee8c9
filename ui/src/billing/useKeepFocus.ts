/**
 * Focus that survives the disappearance of a dialog's opener. A dialog gives focus back to the
 * button that opened it; when the change it confirmed removes that button (a new plan has no
 * "Switch to" any more, a canceled subscription no "Cancel"), focus would fall to <body> and a
 * keyboard or screen reader user would be lost at the top of the document. Instead it goes to the
 * page's notice (what just happened), else the page's heading.
 */
import { useCallback, useEffect, useRef } from 'react';

export const NOTICE_ID = 'oq-page-notice';
export const TITLE_ID = 'oq-page-title';

/** Where focus goes when it would be lost: the notice, the page heading, the selected tab. */
export function focusTarget(): HTMLElement | null {
  return (
    document.getElementById(NOTICE_ID) ??
    document.getElementById(TITLE_ID) ??
    document.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]')
  );
}

/** Returns `opened()`, to call when a dialog opens: its opener is watched after every render until
 * focus is lost with it (then moved to `focusTarget()`) or the person has moved on. */
export function useKeepFocus(dialogOpen: boolean): () => void {
  const opener = useRef<HTMLElement | null>(null);
  const opened = useCallback(() => {
    opener.current = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
  }, []);
  useEffect(() => {
    const el = opener.current;
    if (!el || dialogOpen) return;
    const active = document.activeElement;
    const lost = active === null || active === document.body;
    if (!el.isConnected && lost) {
      opener.current = null;
      focusTarget()?.focus();
    } else if (el.isConnected && !lost && active !== el) {
      opener.current = null; // focus has moved on: nothing to keep
    }
  });
  return opened;
}
