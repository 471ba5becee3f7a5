import type { EngineOptions } from './EngineOptions.js';
import { ModelSlot } from './ModelSlot.js';

/** What the engine does when its model slot reports. */
export interface EngineSlotHooks {
  /** A model is ready (after `onModelLoad`): run what is queued. */
  readonly ready: () => void;
  /** The stream must end with this error (a fatal load error, a throwing user callback). */
  readonly fail: (error: unknown) => void;
}

/**
 * The engine's model slot, wired to the operator's options: `onModelLoad` / `onModelLoadError` called (a throwing one
 * ends the stream rather than the process), load metrics recorded under the model's prefix.
 */
export function engineModelSlot(options: EngineOptions, hooks: EngineSlotHooks): ModelSlot<any> {
  const slot: ModelSlot<any> = new ModelSlot({
    handler: options.handler,
    scheduler: options.scheduler,
    clock: options.clock,
    timeoutMs: options.timeoutMs,
    modelIdentifier: options.modelIdentifier,
    onReady: () => {
      try {
        options.onModelLoad?.(slot.model!.id);
      } catch (thrown) {
        hooks.fail(thrown);
        return;
      }
      hooks.ready();
    },
    onFatal: (error) => hooks.fail(error),
    onLoadError: (error, update) => {
      options.metrics?.recordLoadFailure();
      try {
        options.onModelLoadError?.(error, update);
      } catch (thrown) {
        hooks.fail(thrown);
      }
    },
    onLoaded: (latencyMs, byteSize, prefix, device) => {
      const metrics = prefix === undefined ? options.metrics : options.metrics?.withPrefix(prefix);
      metrics?.recordLoad(latencyMs, byteSize);
      if (device !== undefined) metrics?.recordDevice(device);
    },
  });
  return slot;
}
