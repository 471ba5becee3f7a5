import type { Observable } from 'rxjs';
import type { InferenceEvent } from '../core/InferenceEvent.js';
import type { ModelHandler } from '../models/ModelHandler.js';
import {
  engineOperator,
  prepare,
  type HandlerInput,
  type HandlerOutput,
  type RunInferenceConfig,
  type RunInferenceOperator,
} from './runInference.js';
import { exceptionAwareStage } from './ExceptionAwareStage.js';

/**
 * `runInference` that streams: delivers each element's partial outputs (e.g. generated tokens) as the model produces
 * them, then marks the element's end with its final result.
 *
 * Same engine, config, batching, model loading and sharing, refresh and metrics as `runInference`. A handler streams
 * when its `runInference` Observable emits `PartialOutput`s (`partialOutput(index, value)`) before its results — the
 * ONNX handlers do with an `inferenceFn` such as `onnxGenerate`, `FakeModelHandler` with `stream`. Each element gives:
 *
 * - `{ kind: 'partial', index, value }` for every partial output, as it comes;
 * - then `{ kind: 'end', index, result }`, where `result` is what `runInference` would emit for it (after
 *   postprocessing). `index` is the element's position in the source (0, 1, 2…).
 *
 * With `ordered` (the default) the events follow input order: an element's partial outputs are delivered live while
 * it is the oldest unfinished element, and held (then delivered at once) while an earlier element is still running,
 * so the events of two elements never interleave. With `ordered: false`, events go out as they come.
 *
 * Each batch step takes 1 ms (`FakeModelHandler`, `latencyMs: 1`, `stream: (x) => [...x]` spells each element,
 * `run: (x) => x.toUpperCase()`), `a = 'hi'`, `b = 'ok'`; `h`, `i`, `o`, `k` are partial events, `A`, `B` end events:
 *
 * ```text
 * source:  -a------b-|
 * result:  --h(iA)--o(kB|)
 * ```
 *
 * - Metrics (besides `runInference`'s): `time_to_first_output_milli_secs` (from an element's arrival to its first
 *   partial output) and `outputs_per_second` (an element's partial outputs per second after its first).
 * - Complete: after every element's `end` (or failure).
 * - Error: as `runInference` (after every earlier element's events when ordered). Under `withExceptionHandling` a
 *   failure mid-stream — after some partial outputs — is that element's `Left(FailedRecord)`, which ends it instead of
 *   an `end` event; every element still ends exactly once. A failed batch is NOT bisected when streaming: rerunning it
 *   would repeat partial outputs already delivered, so each of its elements fails.
 * - Unsubscribe: as `runInference`: the in-flight batch's `context.signal` aborts, which stops a generation loop
 *   (`onnxGenerate` checks it before every step), and the model is released.
 *
 * A handler that does not stream works too: each element gives just its `end` event.
 *
 * @example
 * ```ts
 * import { from } from 'rxjs';
 * import { streamInference } from 'rxjs-inference';
 * import { OnnxModelHandler, onnxGenerate } from 'rxjs-inference/handlers';
 *
 * const handler = new OnnxModelHandler({ modelUri: 'lm.onnx', inferenceFn: onnxGenerate({ maxNewTokens: 20, stopTokenIds: [2] }) });
 * from(prompts).pipe(streamInference(handler)).subscribe((event) => {
 *   if (event.kind === 'partial') process.stdout.write(`${event.value} `);
 *   else console.log(`(element ${event.index} done)`);
 * });
 * ```
 *
 * @param handler The model handler; it streams if its `runInference` emits `PartialOutput`s.
 * @param config The options of `runInference`.
 * @returns An operator emitting each element's partial outputs, then its end.
 * @typeParam P - the type of the partial outputs (the handler's choice; `number` token ids for `onnxGenerate`).
 */
export function streamInference<H extends ModelHandler<any, any, any>, P = unknown>(
  handler: H,
  config?: RunInferenceConfig<any>,
): RunInferenceOperator<HandlerInput<H>, InferenceEvent<P, HandlerOutput<H>>> {
  const resolve = prepare(handler, config);
  const operator = (source: Observable<HandlerInput<H>>): Observable<InferenceEvent<P, HandlerOutput<H>>> =>
    engineOperator({ ...resolve('throw', {}), stream: true }, source);
  // Never bisect: a rerun would repeat the partial outputs of the elements it reruns.
  return exceptionAwareStage(
    operator,
    () => (source: Observable<HandlerInput<H>>) =>
      engineOperator({ ...resolve('either', { bisect: false }), stream: true }, source),
  );
}
