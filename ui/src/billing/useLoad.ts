/** One API read a card depends on, with its own loading and failure (so a failure stays in that card). */
import { useEffect, useState } from 'react';

export type Loaded<T> = { state: 'loading' } | { state: 'done'; value: T } | { state: 'failed'; error: unknown };

/**
 * Runs `run()` at first, again whenever `key` changes and when the returned retry is called; an
 * answer to an older key or attempt is dropped, and until the current one comes the state is loading.
 */
export function useLoad<T>(run: () => Promise<T>, key: string): [Loaded<T>, () => void] {
  const [attempt, setAttempt] = useState(0);
  const [loaded, setLoaded] = useState<{ of: string; result: Loaded<T> }>({ of: '', result: { state: 'loading' } });
  const asked = `${String(attempt)}:${key}`;
  useEffect(() => {
    let live = true;
    run().then(
      (value) => {
        if (live) setLoaded({ of: asked, result: { state: 'done', value } });
      },
      (error: unknown) => {
        if (live) setLoaded({ of: asked, result: { state: 'failed', error } });
      },
    );
    return () => {
      live = false;
    };
    // `run` is a new closure each render: `asked` is what says it would ask something else.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [asked]);
  const retry = () => {
    setAttempt((n) => n + 1);
  };
  return [loaded.of === asked ? loaded.result : { state: 'loading' }, retry];
}
