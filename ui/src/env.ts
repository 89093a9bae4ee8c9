/**
 * The page's runtime settings, set by `/env.js` (written by the billing API from its own
 * settings) before the bundle runs. One place names them so the API and the page agree.
 */
declare global {
  interface Window {
    /** Origin of the billing API, e.g. "https://console.example.com"; "" = the page's own origin. */
    backendURL?: string;
    /** The OIDC issuer, e.g. "https://login.example.com/realms/kube-dc". */
    keycloakURL?: string;
    /** The page's public OIDC client (authorization code + PKCE). */
    keycloakClientId?: string;
  }
}

export interface PageEnv {
  backendURL: string;
  issuer: string;
  clientId: string;
}

/** What /env.js failed to provide, named, so the page can say so instead of going blank. */
export class EnvError extends Error {}

export function readEnv(w: Window = window): PageEnv {
  const issuer = (w.keycloakURL ?? '').trim();
  const clientId = (w.keycloakClientId ?? '').trim();
  if (!issuer) {
    throw new EnvError('window.keycloakURL (the OIDC issuer) is not set by /env.js');
  }
  if (!clientId) {
    throw new EnvError('window.keycloakClientId is not set by /env.js');
  }
  const backendURL = (w.backendURL ?? '').trim().replace(/\/+$/, '');
  return { backendURL, issuer: issuer.replace(/\/+$/, ''), clientId };
}
