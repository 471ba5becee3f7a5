import type { OperatorFunction } from 'rxjs';
import type { Either } from 'fp-ts/lib/Either.js';
import type { FailedRecord } from '../core/types.js';

/** Options a stage takes when its failures become values (`withExceptionHandling`). */
export interface ExceptionModeConfig {
  /**
   * For a `runInference` stage: split a failed batch in halves, recursively, so that only the elements that really
   * fail become failure records and the others still get results. @default the handler's `bisectOnFailure()`
   * (on for local handlers, off for `RemoteModelHandler`, where a repeated call costs quota; never for
   * `streamInference`, whose reruns would repeat partial outputs)
   */
  readonly bisect?: boolean;
}

/**
 * The contract between `withExceptionHandling` and the stages it wraps as a whole: a stage that can run with its
 * failures as values. `runInference(...)` and `streamInference(...)` operators are such stages (their return type,
 * `RunInferenceOperator`, is this interface); any other operator is wrapped only when declared element-wise
 * (`{ perElement: true }`).
 *
 * A stage is exception-aware only when it was made by {@link exceptionAwareStage}: {@link isExceptionAwareStage}
 * checks that registration, not the shape, so an object that merely has a `withFailuresAsValues` property is not taken
 * for one, and a `pipe(...)` chain that contains a `runInference` operator is (correctly) not one.
 *
 * @typeParam In - what the stage takes.
 * @typeParam Out - what the stage emits for an element that succeeds.
 */
export interface ExceptionAwareStage<In, Out> extends OperatorFunction<In, Out> {
  /**
   * The same stage with its failures as values: a `Right(output)` for each element that succeeds, a
   * `Left(FailedRecord)` for each element that fails (what `withExceptionHandling` returns for this stage).
   */
  readonly withFailuresAsValues: (
    config: ExceptionModeConfig,
  ) => OperatorFunction<In, Either<FailedRecord<unknown>, Out>>;
}

const registered = new WeakSet<object>();

/**
 * Makes `operator` an {@link ExceptionAwareStage} whose exception mode is `withFailuresAsValues`. The only way to
 * make one (for stage authors: `runInference`, `streamInference`).
 */
export function exceptionAwareStage<In, Out>(
  operator: OperatorFunction<In, Out>,
  withFailuresAsValues: (config: ExceptionModeConfig) => OperatorFunction<In, Either<FailedRecord<unknown>, Out>>,
): ExceptionAwareStage<In, Out> {
  Object.defineProperty(operator, 'withFailuresAsValues', { value: withFailuresAsValues, enumerable: false });
  registered.add(operator);
  return operator as ExceptionAwareStage<In, Out>;
}

/** Whether `stage` was made by {@link exceptionAwareStage} (a `runInference(...)` or `streamInference(...)` operator). */
export function isExceptionAwareStage<In, Out>(
  stage: OperatorFunction<In, Out>,
): stage is ExceptionAwareStage<In, Out> {
  return registered.has(stage);
}
