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
  const results: unknown[] = [];
  input.pipe(lib.runInference(handler, config)).subscribe({
    next: (result) => {
      results.push(result);
      if (pending !== undefined && --pending.left === 0) pending.resolve();
    },
    error: (error: unknown) => pending?.reject(error),
  });
  return {
    results,
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
