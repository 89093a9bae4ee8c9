/** PatternFly's dark theme whenever the reader's system asks for one (and back when it stops). */
export const DARK_CLASS = 'pf-v6-theme-dark';

export function followColorScheme(win: Window = window): void {
  if (typeof win.matchMedia !== 'function') return;
  const query = win.matchMedia('(prefers-color-scheme: dark)');
  const apply = () => {
    win.document.documentElement.classList.toggle(DARK_CLASS, query.matches);
  };
  apply();
  query.addEventListener('change', apply);
}
