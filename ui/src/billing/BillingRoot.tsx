/**
 * Loads what the signed-in person may see and picks the view: the org admin's billing
 * tabs, a project user's projects, or a guest's "no access". The API decides the role
 * (403 on the org routes, then on /projects); the page never guesses from the token.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, AlertActionLink, Bullseye, Spinner } from '@patternfly/react-core';
import { ApiError, type BillingApi } from '../api/client';
import type { BillingConfig, LiveEvents, OrganizationSubscription, Project } from '../api/types';
import type { BillingData } from './model';
import { BillingPage, type TabKey } from './BillingPage';
import { ProjectsView } from './ProjectsView';
import { NoAccess } from './NoAccess';
import { useLiveUpdates } from './useLiveUpdates';
import { LiveStatus } from './LiveStatus';
import type { Audience } from './audience';

type View =
  | { kind: 'loading' }
  | { kind: 'admin'; data: BillingData }
  | { kind: 'project'; config: BillingConfig; projects: Project[] }
  | { kind: 'guest' }
  | { kind: 'error'; error: ApiError };

const isForbidden = (e: unknown) => e instanceof ApiError && e.status === 403;

/** The plans and add-ons, or why they could not be read: a catalog that fails leaves the rest of the page. */
async function catalog(api: BillingApi): Promise<Pick<BillingData, 'plans' | 'addons' | 'catalogError'>> {
  try {
    const [plans, addons] = await Promise.all([api.plans(), api.addons()]);
    return { plans, addons };
  } catch (catalogError) {
    return { plans: [], addons: [], catalogError };
  }
}

/** The data with a fresh read of the catalog (a failure of the last read forgotten). */
function withCatalog(data: BillingData, read: Pick<BillingData, 'plans' | 'addons' | 'catalogError'>): BillingData {
  const fresh: BillingData = { ...data, ...read };
  if (read.catalogError === undefined) delete fresh.catalogError;
  return fresh;
}

async function load(api: BillingApi): Promise<View> {
  const config = await api.config();
  const sold = catalog(api);
  try {
    const subscription = await api.subscription();
    return { kind: 'admin', data: { config, subscription, ...(await sold) } };
  } catch (e) {
    if (!isForbidden(e)) throw e;
  }
  try {
    return { kind: 'project', config, projects: await api.projects() };
  } catch (e) {
    if (isForbidden(e)) return { kind: 'guest' };
    throw e;
  }
}

/** The view with one event of the API's stream taken in (events the view does not show are ignored). */
function withEvent(view: View, name: string, data: unknown): View {
  if (view.kind === 'admin' && name === 'subscription') {
    const subscription: OrganizationSubscription = data as NonNullable<LiveEvents['subscription']>;
    return { kind: 'admin', data: { ...view.data, subscription } };
  }
  if (view.kind === 'admin' && name === 'alerts') return { kind: 'admin', data: { ...view.data, quotaStatus: data as LiveEvents['alerts'] ?? undefined } };
  if (view.kind === 'admin' && name === 'catalog') {
    const { plans, addons } = data as LiveEvents['catalog'];
    return { kind: 'admin', data: withCatalog(view.data, { plans, addons }) };
  }
  if (view.kind === 'project' && name === 'projects') {
    const projects: Project[] = data as NonNullable<LiveEvents['projects']>;
    return { ...view, projects };
  }
  return view;
}

export interface BillingRootProps {
  api: BillingApi;
  onSignIn: () => void;
  navigate?: (url: string) => void;
  initialTab?: TabKey;
  /** Told whom the page speaks to once the API has said it (the header's words follow). */
  onAudience?: (audience: Audience) => void;
}

/** Whom a view speaks to; null while that is not known. */
function audienceOf(view: View): Audience | null {
  if (view.kind === 'admin' || view.kind === 'guest') return { kind: view.kind };
  if (view.kind === 'project') return { kind: 'project', projects: view.projects };
  return null;
}

export function BillingRoot({ api, onSignIn, navigate, initialTab, onAudience }: BillingRootProps) {
  const [view, setView] = useState<View>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);

  const audience = audienceOf(view);
  const audienceKey = JSON.stringify(audience && (audience.kind === 'project' ? audience.projects.map((p) => [p.namespace, p.organization]) : audience.kind));
  useEffect(() => {
    if (audience) onAudience?.(audience);
    // told again only when whom it speaks to changes, not on every usage update
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [audienceKey, onAudience]);

  useEffect(() => {
    let live = true;
    load(api).then(
      (v) => {
        if (live) setView(v);
      },
      (e: unknown) => {
        if (live) setView({ kind: 'error', error: e instanceof ApiError ? e : new ApiError(String(e), 0) });
      },
    );
    return () => {
      live = false;
    };
  }, [api, attempt]);

  const retry = () => {
    setView({ kind: 'loading' });
    setAttempt((n) => n + 1);
  };

  const onSubscription = useCallback((subscription: OrganizationSubscription) => {
    setView((v) => (v.kind === 'admin' ? { kind: 'admin', data: { ...v.data, subscription } } : v));
  }, []);

  const retryCatalog = useCallback(() => {
    void catalog(api).then((read) => {
      setView((v) => (v.kind === 'admin' ? { kind: 'admin', data: withCatalog(v.data, read) } : v));
    });
  }, [api]);

  const following = view.kind === 'admin' || view.kind === 'project';
  const live = useLiveUpdates(
    api,
    following,
    (name, data) => {
      setView((v) => withEvent(v, name, data));
    },
    async () => {
      // the stream is down: read again what the view shows (a failure here waits for the next round)
      try {
        if (view.kind === 'admin') onSubscription(await api.subscription());
        else if (view.kind === 'project') {
          const projects = await api.projects();
          setView((v) => (v.kind === 'project' ? { ...v, projects } : v));
        }
      } catch {
        // shown again at the next round or when the stream returns
      }
    },
  );

  switch (view.kind) {
    case 'loading':
      return (
        <Bullseye className="oq-loading">
          <Spinner aria-label="Loading billing data" />
        </Bullseye>
      );
    case 'error': {
      const expired = view.error.status === 401;
      return (
        <Alert component="h2"
          variant="danger"
          isInline
          title={expired ? `Your session is no longer valid: ${view.error.message}` : view.error.message}
          actionLinks={
            expired ? <AlertActionLink onClick={onSignIn}>Sign in again</AlertActionLink> : <AlertActionLink onClick={retry}>Try again</AlertActionLink>
          }
        >
          {view.error.status > 0 && `HTTP ${view.error.status}`}
        </Alert>
      );
    }
    case 'guest':
      return <NoAccess />;
    case 'project':
      return (
        <>
          <LiveStatus state={live} />
          <ProjectsView projects={view.projects} />
        </>
      );
    case 'admin':
      return (
        <>
          <LiveStatus state={live} />
          <BillingPage api={api} data={view.data} onSubscription={onSubscription} onRetryCatalog={retryCatalog} onSignIn={onSignIn} {...(navigate ? { navigate } : {})} {...(initialTab ? { initialTab } : {})} />
        </>
      );
  }
}
