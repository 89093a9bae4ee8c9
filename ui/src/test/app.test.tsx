import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { App } from '../App';
import type { Auth } from '../auth/oidc';
import { EnvError, readEnv } from '../env';

function fakeAuth(start: () => Promise<null>, onPurpose = false) {
  const auth = {
    start,
    signIn: vi.fn(() => Promise.resolve()),
    signOut: vi.fn(() => Promise.resolve()),
    shouldAutoSignIn: () => !onPurpose,
    accessToken: () => null,
  } satisfies Auth;
  return auth;
}

describe('sign-in states', () => {
  it('goes straight to the identity provider when not signed in', async () => {
    const auth = fakeAuth(() => Promise.resolve(null));
    render(<App auth={auth} backendURL="" />);
    await vi.waitFor(() => {
      expect(auth.signIn).toHaveBeenCalledOnce();
    });
    expect(screen.getByRole('progressbar', { name: 'Redirecting to sign-in' })).toBeInTheDocument();
  });

  it('after signing out on purpose, shows a signed-out page with Sign in', async () => {
    const auth = fakeAuth(() => Promise.resolve(null), true);
    render(<App auth={auth} backendURL="" />);
    expect(await screen.findByRole('heading', { name: 'You are signed out' })).toBeInTheDocument();
    expect(auth.signIn).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(auth.signIn).toHaveBeenCalledOnce();
  });

  it('a failed sign-in is said in the page', async () => {
    const auth = fakeAuth(() => Promise.reject(new Error('invalid_grant: Code not valid')));
    render(<App auth={auth} backendURL="" />);
    expect(await screen.findByText('Sign-in failed: invalid_grant: Code not valid')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });
});

describe('env.js', () => {
  it('reads the three settings, trimming trailing slashes', () => {
    const w = { backendURL: 'https://api.example/', keycloakURL: 'https://id.example/realms/kube-dc/', keycloakClientId: 'kube-dc' } as Window;
    expect(readEnv(w)).toEqual({ backendURL: 'https://api.example', issuer: 'https://id.example/realms/kube-dc', clientId: 'kube-dc' });
    expect(readEnv({ keycloakURL: 'https://id', keycloakClientId: 'c' } as Window).backendURL).toBe('');
  });

  it('names what is missing', () => {
    expect(() => readEnv({ keycloakClientId: 'c' } as Window)).toThrow(new EnvError('window.keycloakURL (the OIDC issuer) is not set by /env.js'));
    expect(() => readEnv({ keycloakURL: 'https://id' } as Window)).toThrow('window.keycloakClientId is not set by /env.js');
  });
});
