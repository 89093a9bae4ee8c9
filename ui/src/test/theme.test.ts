import { describe, expect, it } from 'vitest';
import { DARK_CLASS, followColorScheme } from '../theme';

describe('the colour scheme', () => {
  it("follows the system's dark preference, and its changes", () => {
    let matches = true;
    const listeners: (() => void)[] = [];
    const query = { get matches() { return matches; }, addEventListener: (_: string, f: () => void) => listeners.push(f) };
    const win = { matchMedia: () => query, document } as unknown as Window;
    followColorScheme(win);
    expect(document.documentElement).toHaveClass(DARK_CLASS);
    matches = false;
    listeners.forEach((f) => { f(); });
    expect(document.documentElement).not.toHaveClass(DARK_CLASS);
  });
});
