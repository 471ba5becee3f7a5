import { Subject } from 'rxjs';
import type { Library } from './lib';

/**
 * A long-lived `runInference` pipeline fed through a Subject: the model is loaded once (by the warm-up round), as in
 * a service, so a round measures steady-state throughput, as the raw loop does (it excludes session creation too).
 */
export function pipeline<T>(
  lib: Library,
  handler: Parameters<Library['runInference']>[0],
  config?: Parameters<Library['runInference']>[1],
) {
  const input = new Subject<T>();
  let pending: { left: number; resolve: () => void; reject: (e: unknown) => void } | undefined;
  // Results are counted, not kept: a round's results held for the whole run made the library's heap (and GC) grow
  // with every round, a cost the raw loops, which keep nothing, never paid.
  input.pipe(lib.runInference(handler, config)).subscribe({
    next: (result) => {
      if (result.inference === undefined) pending?.reject(new Error('a result without an inference'));
      else if (pending !== undefined && --pending.left === 0) pending.resolve();
    },
    error: (error: unknown) => pending?.reject(error),
  });
  return {
    /** Pushes `elements` (synchronously, or `chunk` per macrotask) and resolves when all their results are out. */
    round(elements: readonly T[], chunk?: number): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        pending = { left: elements.length, resolve, reject };
        if (chunk === undefined) {
          for (const element of elements) input.next(element);
          return;
        }
        let i = 0;
        const tick = () => {
          for (const end = Math.min(elements.length, i + chunk); i < end; i++) input.next(elements[i]);
          if (i < elements.length) setImmediate(tick);
        };
        setImmediate(tick);
      });
    },
    close: () => input.complete(),
  };
}
