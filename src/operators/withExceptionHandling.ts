import { Observable, of, type OperatorFunction, takeWhile } from 'rxjs';
import { type Either, left, right } from 'fp-ts/lib/Either.js';
import type { FailedRecord } from '../core/types.js';
import { checkBoolean, checkKnownKeys, checkObject } from '../core/validate.js';
import { failure } from '../engine/Failed.js';
import { isExceptionAwareStage, type ExceptionAwareStage, type ExceptionModeConfig } from './ExceptionAwareStage.js';

/** Options of `withExceptionHandling`: the stage's exception mode (`bisect`), and `perElement` for other chains. */
export interface WithExceptionHandlingConfig extends ExceptionModeConfig {
  /**
   * Required to wrap a stage that is not a `runInference(...)` or `streamInference(...)` operator: says that the stage
   * is element-wise (each element gives its outputs on its own, like `map` or `mergeMap`), so each element is run
   * through it on its own and a throw becomes that element's `Left`. A buffering operator (`bufferCount`) or a
   * `pipe()` chain containing `runInference` is not element-wise. @default false
   */
  readonly perElement?: boolean;
}

/**
 * Turns the failures of a stage into values: a dead-letter stream instead of a dead stream.
 *
 * Given `runInference(handler, config)`, the same engine runs, but a failure of preprocess function *i*, of a batch,
 * or of postprocess function *j* becomes `Left(FailedRecord)` (with `stage`, `index` in execution order, the
 * `element` that entered the failing step, the `error` with the original as `cause`, and for inference failures the
 * `batch`); every other element becomes `Right(result)`. Every input ends up in exactly one of the two, and with
 * ordered output the `Left`s and `Right`s together follow input order. A failed batch is bisected (by default for
 * local handlers) so that only the poison elements fail.
 *
 * Given any other chain, declared element-wise with `{ perElement: true }` (`map`, `mergeMap(fetch)`, ...), each
 * element runs through the chain on its own, one after the other, and a throw becomes `Left` with `stage: 'stage'`.
 * Anything else is a `TypeError` when the operator is created: a `pipe()` chain that contains `runInference` (it would
 * run one batch per element; move the steps before it into the handler with `withPreprocessFn`, or wrap
 * `runInference` alone) or an undeclared operator such as `bufferCount(2)` (which would see one element at a time).
 *
 * ```text
 * source:  -1-x-3-|        (x fails to parse in a preprocess function)
 * result:  -R-L-R-|        R = Right(result), L = Left({ stage: 'preprocess', index: 0, element: 'x', ... })
 * ```
 *
 * - Complete: after every element has come out (as `Right` or `Left`).
 * - Error: only for what is not one element's fault: a source error, a model that could never load. On a source
 *   error, every element the source gave before it is completed (a `Right` or a `Left`) before the error is delivered.
 * - Unsubscribe: as the wrapped stage (in-flight batches aborted, the model released).
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { partitionFailures, runInference, withExceptionHandling } from 'rxjs-inference';
 *
 * const [results$, failures$] = partitionFailures(from(lines).pipe(withExceptionHandling(runInference(handler))));
 * failures$.subscribe((f) => deadLetters.write(`${f.stage}: ${f.error.message}\n`));
 * results$.subscribe(console.log);
 * ```
 *
 * What is wrapped as a whole is an explicit contract, {@link ExceptionAwareStage}: the type `runInference` and
 * `streamInference` return (`RunInferenceOperator`), checked by `isExceptionAwareStage` when the operator is created.
 *
 * @param stage A `runInference(...)` or `streamInference(...)` operator, or an element-wise chain (with `perElement`).
 * @param config Options (bisection; `perElement` for element-wise chains). Unknown keys are a `TypeError`.
 * @returns An operator emitting `Either<FailedRecord, Out>` per element.
 */
export function withExceptionHandling<In, Out>(
  stage: ExceptionAwareStage<In, Out>,
  config?: WithExceptionHandlingConfig & { readonly perElement?: false },
): OperatorFunction<In, Either<FailedRecord<unknown>, Out>>;
export function withExceptionHandling<In, Out>(
  stage: OperatorFunction<In, Out>,
  config: WithExceptionHandlingConfig & { readonly perElement: true },
): OperatorFunction<In, Either<FailedRecord<unknown>, Out>>;
export function withExceptionHandling<In, Out>(
  stage: OperatorFunction<In, Out>,
  config?: WithExceptionHandlingConfig,
): OperatorFunction<In, Either<FailedRecord<unknown>, Out>> {
  if (typeof stage !== 'function') {
    throw new TypeError(
      `Expected \`stage\` to be an operator function, got ${stage === null ? 'null' : typeof stage}.`,
    );
  }
  checkObject('config', config);
  checkKnownKeys('withExceptionHandling config', config, CONFIG_KEYS);
  checkBoolean('bisect', config?.bisect);
  checkBoolean('perElement', config?.perElement);
  // The contract (ExceptionAwareStage): runInference and streamInference operators are registered exception-aware
  // stages and are wrapped as a whole. Anything else must be declared element-wise: a pipe() chain that contains
  // runInference is not one and would silently run one batch per element, a buffering operator would silently see one
  // element at a time.
  if (isExceptionAwareStage(stage)) {
    if (config?.perElement === true) {
      throw new TypeError(
        '`perElement: true` is for element-wise chains; a runInference(...) operator is wrapped as a whole (batched).',
      );
    }
    return stage.withFailuresAsValues({ bisect: config?.bisect });
  }
  if (config?.perElement !== true) throw new TypeError(NOT_A_STAGE);
  return (source) => isolateElements(source, stage);
}

const CONFIG_KEYS = { bisect: true, perElement: true } as const satisfies Record<
  keyof WithExceptionHandlingConfig,
  true
>;

const NOT_A_STAGE =
  'withExceptionHandling(stage): `stage` is not a runInference(...) or streamInference(...) operator. ' +
  'A pipe() chain containing runInference cannot be batched as a whole: move the steps before it into the handler ' +
  '(`handler.withPreprocessFn(f)`), or wrap runInference alone (`pipe(map(f), withExceptionHandling(runInference(h)))`). ' +
  'For an element-wise chain (map, mergeMap, ...: each element on its own), pass `{ perElement: true }`; a buffering ' +
  'operator such as bufferCount is not element-wise and cannot be wrapped.';

/** Runs each element through `stage` on its own, in order; a throw becomes a `Left` with `stage: 'stage'`. */
function isolateElements<In, Out>(
  source: Observable<In>,
  stage: OperatorFunction<In, Out>,
): Observable<Either<FailedRecord<unknown>, Out>> {
  return new Observable<Either<FailedRecord<unknown>, Out>>((subscriber) => {
    // An own FIFO (head index, compacted) rather than concatMap: no quadratic shift() under a synchronous flood.
    let queue: In[] = [];
    let head = 0;
    let running = false;
    let draining = false;
    let sourceDone = false;
    /** The source's error: delivered once every element it gave has run through the chain (#13 item 7). */
    let sourceError: { readonly error: unknown } | undefined;
    let closed = false;
    let inner: { unsubscribe(): void } | undefined;
    subscriber.add(() => {
      closed = true;
      inner?.unsubscribe();
      queue = [];
    });

    const drain = (): void => {
      if (draining) return;
      draining = true;
      while (!closed && !running && head < queue.length) {
        const element = queue[head];
        queue[head++] = undefined as In;
        if (head > 1024 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        running = true;
        let finished = false;
        const finish = (): void => {
          if (finished) return;
          finished = true;
          running = false;
          inner = undefined;
          if (!draining) drain();
        };
        inner = of(element)
          .pipe(stage)
          .subscribe({
            next: (value) => subscriber.next(right(value)),
            error: (error: unknown) => {
              subscriber.next(left(failure('stage', 0, element, error).record));
              finish();
            },
            complete: finish,
          });
        if (finished) inner = undefined;
      }
      draining = false;
      if (closed || !sourceDone || running || head < queue.length) return;
      if (sourceError !== undefined) subscriber.error(sourceError.error);
      else subscriber.complete();
    };

    subscriber.add(
      // `takeWhile` stops a synchronous endless source once we are closed (its subscription is not ours yet then).
      source.pipe(takeWhile(() => !closed)).subscribe({
        next: (value) => {
          queue.push(value);
          drain();
        },
        error: (error: unknown) => {
          sourceError = { error };
          sourceDone = true;
          drain();
        },
        complete: () => {
          sourceDone = true;
          drain();
        },
      }),
    );
  });
}
