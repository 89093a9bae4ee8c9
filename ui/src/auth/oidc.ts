/**
 * Sign-in: OIDC authorization code + PKCE against the configured issuer (oidc-client-ts).
 * The page's own URL (path, query, hash) rides in the sign-in state, so a return from
 * Stripe Checkout (?sessionId=) or a tab link survives the round trip to the identity provider.
 */
import { UserManager, WebStorageStateStore, type User } from 'oidc-client-ts';
import type { PageEnv } from '../env';

const SIGNED_OUT_KEY = 'orgquota.signedOut';

export interface Auth {
  /** The user after a completed sign-in, or null: then the caller shows sign-in. */
  start: () => Promise<User | null>;
  signIn: () => Promise<void>;
  signOut: () => Promise<void>;
  /** False after a deliberate sign-out, or inside the silent-renew frame: then show "signed out" instead. */
  shouldAutoSignIn: () => boolean;
  /** The current access token (renewed silently), for the API's Authorization header. */
  accessToken: () => string | null;
}

interface ReturnState {
  returnTo: string;
}

function isCallback(url: URL): boolean {
  return url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error'));
}

export function createAuth(env: PageEnv, w: Window = window): Auth {
  const redirectUri = `${w.location.origin}${w.location.pathname}`;
  const manager = new UserManager({
    authority: env.issuer,
    client_id: env.clientId,
    redirect_uri: redirectUri,
    post_logout_redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid profile',
    automaticSilentRenew: true,
    userStore: new WebStorageStateStore({ store: w.sessionStorage }),
  });
  let token: string | null = null;
  manager.events.addUserLoaded((u) => {
    token = u.access_token;
  });
  manager.events.addUserUnloaded(() => {
    token = null;
  });

  return {
    async start() {
      const url = new URL(w.location.href);
      if (isCallback(url) && w.parent !== w) {
        // The hidden frame of a silent renew (no refresh token): hand the answer to the page.
        await manager.signinSilentCallback();
        return null;
      }
      if (isCallback(url)) {
        const user = await manager.signinRedirectCallback();
        w.sessionStorage.removeItem(SIGNED_OUT_KEY);
        token = user.access_token;
        const state = user.state as ReturnState | undefined;
        w.history.replaceState(null, '', state?.returnTo ?? redirectUri);
        return user;
      }
      const user = await manager.getUser();
      if (!user || user.expired) return null;
      token = user.access_token;
      return user;
    },
    async signIn() {
      const here = new URL(w.location.href);
      const state: ReturnState = { returnTo: `${here.pathname}${here.search}${here.hash}` };
      await manager.signinRedirect({ state });
    },
    async signOut() {
      w.sessionStorage.setItem(SIGNED_OUT_KEY, '1');
      const user = await manager.getUser();
      await manager.removeUser();
      try {
        await manager.signoutRedirect(user?.id_token ? { id_token_hint: user.id_token } : {});
      } catch {
        // An issuer without an end-session endpoint: the local sign-out above is all there is.
        w.location.replace(redirectUri);
      }
    },
    accessToken() {
      return token;
    },
    shouldAutoSignIn() {
      return w.sessionStorage.getItem(SIGNED_OUT_KEY) !== '1' && w.parent === w;
    },
  };
}
