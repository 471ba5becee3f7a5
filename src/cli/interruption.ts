/** What {@link interruption} resolves to. */
export const INTERRUPTED = Symbol('interrupted');

/** Resolves with {@link INTERRUPTED} when `signal` aborts (at once if it has; never without a signal). */
export function interruption(signal: AbortSignal | undefined): Promise<typeof INTERRUPTED> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) resolve(INTERRUPTED);
    else signal?.addEventListener('abort', () => resolve(INTERRUPTED), { once: true });
  });
}
