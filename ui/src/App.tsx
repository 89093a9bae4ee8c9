/**
 * The page's states before any billing data: not configured, signing in, signed out
 * (on purpose, or because the identity provider failed), and signed in.
 */
import { useEffect, useMemo, useState } from 'react';
import { Alert, Bullseye, Button, EmptyState, EmptyStateActions, EmptyStateBody, EmptyStateFooter, Spinner } from '@patternfly/react-core';
import type { User } from 'oidc-client-ts';
import type { Auth } from './auth/oidc';
import { BillingApi } from './api/client';
import { BillingRoot } from './billing/BillingRoot';
import type { Audience } from './billing/audience';
import { Shell } from './Shell';

type Phase = { kind: 'starting' } | { kind: 'redirecting' } | { kind: 'signedOut'; error?: string } | { kind: 'signedIn'; user: User };

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function App({ auth, backendURL }: { auth: Auth; backendURL: string }) {
  const [phase, setPhase] = useState<Phase>({ kind: 'starting' });
  const [audience, setAudience] = useState<Audience>({ kind: 'admin' });

  const signIn = () => {
    setPhase({ kind: 'redirecting' });
    auth.signIn().catch((e: unknown) => {
      setPhase({ kind: 'signedOut', error: `Sign-in could not start: ${message(e)}` });
    });
  };

  useEffect(() => {
    auth
      .start()
      .then((user) => {
        if (user) {
          setPhase({ kind: 'signedIn', user });
        } else if (auth.shouldAutoSignIn()) {
          setPhase({ kind: 'redirecting' });
          return auth.signIn();
        } else {
          setPhase({ kind: 'signedOut' });
        }
      })
      .catch((e: unknown) => {
        setPhase({ kind: 'signedOut', error: `Sign-in failed: ${message(e)}` });
      });
  }, [auth]);

  const api = useMemo(() => new BillingApi(backendURL, () => auth.accessToken()), [auth, backendURL]);

  if (phase.kind === 'signedIn') {
    const p = phase.user.profile;
    const name = p.preferred_username ?? p.name ?? p.email ?? p.sub;
    return (
      <Shell userName={name} onSignOut={() => void auth.signOut()} audience={audience}>
        <BillingRoot api={api} onSignIn={signIn} onAudience={setAudience} />
      </Shell>
    );
  }
  if (phase.kind === 'signedOut') {
    return (
      <Shell>
        {phase.error && <Alert component="h2" isInline variant="danger" title={phase.error} className="oq-notice" />}
        <EmptyState titleText="You are signed out" headingLevel="h2">
          <EmptyStateBody>Sign in to see your organization&apos;s plan, usage and payments.</EmptyStateBody>
          <EmptyStateFooter>
            <EmptyStateActions>
              <Button variant="primary" onClick={signIn}>
                Sign in
              </Button>
            </EmptyStateActions>
          </EmptyStateFooter>
        </EmptyState>
      </Shell>
    );
  }
  return (
    <Shell>
      <Bullseye className="oq-loading">
        <Spinner aria-label={phase.kind === 'redirecting' ? 'Redirecting to sign-in' : 'Signing in'} />
      </Bullseye>
    </Shell>
  );
}
