import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { describeValue } from '../core/errors.js';
import { checkFunction, checkKnownKeys, checkNumber, checkObject, checkScheduler } from '../core/validate.js';
import type { BatchElementsConfig, BatchKey } from './BatchElementsConfig.js';

/**
 * A `BatchElementsConfig` with every default applied and every field validated. Disabled targets are `null`
 * (Beam's falsy check: `null` and `0` both disable a target), except the including-fixed-cost one, `undefined`.
 */
export interface ResolvedBatchConfig<T = unknown> {
  readonly minBatchSize: number;
  readonly maxBatchSize: number;
  readonly targetBatchOverhead: number | null;
  readonly targetBatchDurationMs: number | null;
  /** `undefined` when disabled (the user's config types it `number | undefined`). */
  readonly targetBatchDurationIncludingFixedCostMs: number | undefined;
  readonly variance: number;
  /** `undefined` when every element weighs 1 (the fast path). */
  readonly elementSizeFn: ((element: T) => number) | undefined;
  readonly maxBatchWeight: number;
  /** `undefined` when there is no time bound. */
  readonly maxBatchDurationMs: number | undefined;
  /** `undefined` when every element shares one key (the fast path). */
  readonly batchKeyFn: ((element: T) => BatchKey) | undefined;
  readonly scheduler: SchedulerLike;
  readonly random: () => number;
}

/** A number in [0, 1] (checkNumber would append "at most 1" to an `expected` that already says so). */
function checkAtMostOne(field: string, value: unknown, expected: string): void {
  checkNumber(field, value, { min: 0 }, expected);
  if (typeof value === 'number' && value > 1) {
    throw new RangeError(`Expected \`${field}\` to be ${expected}, got ${describeValue(value)}.`);
  }
}

/** `null`, `undefined` → the default; `null` or `0` given explicitly → disabled (`null`). */
function target(value: number | null | undefined, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  return value === null || value === 0 ? null : value;
}

/**
 * Applies Beam's defaults to a `BatchElementsConfig` and validates it, throwing a `TypeError` (wrong type) or a
 * `RangeError` (out of range) that names the field. Called when an operator or a `BatchSizeEstimator` is created,
 * so a bad config fails before any subscription.
 *
 * Defaults: `minBatchSize` 1, `maxBatchSize` 10000, `targetBatchOverhead` 0.05, `targetBatchDurationMs` 10000,
 * `targetBatchDurationIncludingFixedCostMs` none, `variance` 0.25, `maxBatchWeight` Infinity, no time bound, one key,
 * every element weighs 1, `scheduler` `asyncScheduler`, `random` `Math.random`.
 *
 * @example
 * ```ts
 * resolveBatchConfig({ maxBatchSize: 64 }).targetBatchOverhead; // 0.05
 * resolveBatchConfig({ minBatchSize: 8, maxBatchSize: 4 }); // RangeError naming both fields
 * ```
 * @param config The user's config (`undefined` = all defaults).
 * @returns A frozen, fully defaulted config.
 */
export function resolveBatchConfig<T>(config?: BatchElementsConfig<T>): ResolvedBatchConfig<T> {
  checkObject('config', config);
  checkKnownKeys('the batch config', config, BATCH_CONFIG_KEYS);
  const {
    minBatchSize = 1,
    maxBatchSize = 10000,
    targetBatchOverhead,
    targetBatchDurationMs,
    targetBatchDurationIncludingFixedCostMs,
    variance = 0.25,
    elementSizeFn,
    maxBatchWeight = Infinity,
    maxBatchDurationMs,
    batchKeyFn,
    scheduler = asyncScheduler,
    random = Math.random,
  } = config ?? {};

  checkNumber('minBatchSize', minBatchSize, { min: 1, integer: true });
  checkNumber('maxBatchSize', maxBatchSize, { min: 1, integer: true });
  if (minBatchSize > maxBatchSize) {
    throw new RangeError(
      `Expected \`minBatchSize\` (${minBatchSize}) to be at most \`maxBatchSize\` (${maxBatchSize}).`,
    );
  }
  if (targetBatchOverhead !== null) {
    checkAtMostOne('targetBatchOverhead', targetBatchOverhead, 'a number in (0, 1], 0 or null');
  }
  if (targetBatchDurationMs !== null) {
    checkNumber('targetBatchDurationMs', targetBatchDurationMs, { min: 0 }, 'a positive number, 0 or null');
  }
  if ((targetBatchDurationIncludingFixedCostMs as unknown) !== null) {
    checkNumber(
      'targetBatchDurationIncludingFixedCostMs',
      targetBatchDurationIncludingFixedCostMs,
      { min: 0 },
      'a positive number, 0 or null',
    );
  }
  const overhead = target(targetBatchOverhead, 0.05);
  const duration = target(targetBatchDurationMs, 10000);
  const includingFixedCost = target(targetBatchDurationIncludingFixedCostMs, null);
  if (overhead === null && duration === null && includingFixedCost === null) {
    throw new RangeError(
      'Expected at least one of `targetBatchOverhead`, `targetBatchDurationMs` or ' +
        '`targetBatchDurationIncludingFixedCostMs` to be positive, got none.',
    );
  }
  checkAtMostOne('variance', variance, 'a number in [0, 1]');
  checkFunction('elementSizeFn', elementSizeFn);
  checkNumber('maxBatchWeight', maxBatchWeight, { min: 0, exclusiveMin: true, allowInfinity: true });
  checkNumber('maxBatchDurationMs', maxBatchDurationMs, { min: 0 });
  checkFunction('batchKeyFn', batchKeyFn);
  checkScheduler('scheduler', scheduler);
  checkFunction('random', random);

  return Object.freeze({
    minBatchSize,
    maxBatchSize,
    targetBatchOverhead: overhead,
    targetBatchDurationMs: duration,
    targetBatchDurationIncludingFixedCostMs: includingFixedCost ?? undefined,
    variance,
    elementSizeFn,
    maxBatchWeight,
    maxBatchDurationMs,
    batchKeyFn,
    scheduler,
    random,
  });
}

function keyPart(key: BatchKey): string {
  // A type tag keeps `1`, `'1'`, `1n` and `true` apart; `null` is tagged apart from `undefined`.
  const tag = key === null ? 'l' : (typeof key)[0];
  return `${tag}${String(key)}`;
}

/**
 * Combines a handler's batch key and an operator's batch key into one `BatchKey`, so that two elements share a batch
 * only when both keys are equal. The result is the string `<tag><a.length>:<a>\u0000<tag><b>`, where a tag is one
 * letter for the key's type (`s`tring, `n`umber, `b`oolean, b`i`gint, `u`ndefined, nu`l`l); the length prefix makes
 * the encoding unambiguous whatever characters the keys contain.
 */
export function combineBatchKeys(handlerKey: BatchKey, operatorKey: BatchKey): string {
  const a = keyPart(handlerKey);
  return `${a.length}:${a}\u0000${keyPart(operatorKey)}`;
}

/**
 * Merges a handler's `batchConfig()` with an operator's `batch` config: every field the operator gives (anything but
 * `undefined`; `null` counts, it disables a target) overrides the handler's, except `batchKeyFn`: a handler's key
 * always applies (e.g. tensor shape, which must never be mixed). When both give a `batchKeyFn`, the key is the pair,
 * combined into one string by {@link combineBatchKeys}.
 *
 * @example
 * ```ts
 * mergeBatchConfig({ maxBatchSize: 32, batchKeyFn: shapeOf }, { maxBatchSize: 8, batchKeyFn: lengthBucket });
 * // { maxBatchSize: 8, batchKeyFn: (e) => combineBatchKeys(shapeOf(e), lengthBucket(e)) }
 * ```
 * @param handlerConfig The handler's preferences (`handler.batchConfig()`).
 * @param operatorConfig The operator's overrides.
 * @returns The merged config (not yet validated: pass it to `resolveBatchConfig`).
 */
export function mergeBatchConfig<T>(
  handlerConfig?: BatchElementsConfig<T>,
  operatorConfig?: BatchElementsConfig<T>,
): BatchElementsConfig<T> {
  checkObject('handlerConfig', handlerConfig);
  checkObject('operatorConfig', operatorConfig);
  const merged: Record<string, unknown> = { ...handlerConfig };
  for (const [field, value] of Object.entries(operatorConfig ?? {})) {
    if (value !== undefined) merged[field] = value;
  }
  const handlerKeyFn = handlerConfig?.batchKeyFn;
  const operatorKeyFn = operatorConfig?.batchKeyFn;
  if (typeof handlerKeyFn === 'function' && typeof operatorKeyFn === 'function') {
    merged.batchKeyFn = (element: T) => combineBatchKeys(handlerKeyFn(element), operatorKeyFn(element));
  } else if (handlerKeyFn !== undefined) {
    merged.batchKeyFn = handlerKeyFn;
  }
  return merged as BatchElementsConfig<T>;
}

/** Every option of `BatchElementsConfig`, for the unknown-key check (the compiler keeps it complete). */
const BATCH_CONFIG_KEYS = {
  minBatchSize: true,
  maxBatchSize: true,
  targetBatchOverhead: true,
  targetBatchDurationMs: true,
  targetBatchDurationIncludingFixedCostMs: true,
  variance: true,
  elementSizeFn: true,
  maxBatchWeight: true,
  maxBatchDurationMs: true,
  batchKeyFn: true,
  scheduler: true,
  random: true,
} as const satisfies Record<keyof BatchElementsConfig, true>;
