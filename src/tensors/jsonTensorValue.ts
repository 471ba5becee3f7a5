import type { TensorType } from './TensorType.js';

/** Range of each small integer type. */
const INT_RANGES: Partial<Record<TensorType, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

/** Options of {@link jsonTensorValue}. */
export interface JsonTensorValueConfig {
  /** Whether `bool` also takes the numbers 0 and 1 (the CLI's JSON lines do; the inference protocol does not). @default false */
  readonly boolFromNumbers?: boolean;
}

/**
 * One JSON value (from `JSON.parse`) as a value of tensor element type `type`, or `undefined` when it does not fit:
 * a finite number for float32 (within float32's range: beyond ±3.4e38 it would become Infinity, which the NaN and
 * Infinity rule rejects) and float64; an integer in range for the integer types (int64/uint64 also as a decimal
 * string, since `JSON.parse` rounds integers beyond 2^53); `true`/`false` for bool (1/0 for a bool tensor); a string
 * for string. The one JSON-to-tensor conversion of the CLI and the inference server.
 *
 * @example
 * jsonTensorValue(3, 'int8'); // 3
 * jsonTensorValue(300, 'int8'); // undefined
 * jsonTensorValue('9007199254740993', 'int64'); // 9007199254740993n
 */
export function jsonTensorValue(
  value: unknown,
  type: TensorType,
  config?: JsonTensorValueConfig,
): number | bigint | string | undefined {
  switch (type) {
    case 'float32':
      return typeof value === 'number' && Number.isFinite(Math.fround(value)) ? value : undefined;
    case 'float64':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'bool':
      if (value === true || (value === 1 && config?.boolFromNumbers === true)) return 1;
      return value === false || (value === 0 && config?.boolFromNumbers === true) ? 0 : undefined;
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'int64':
    case 'uint64': {
      let big: bigint | undefined;
      if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value);
      else if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) big = BigInt(value);
      if (big === undefined) return undefined;
      const fits = type === 'int64' ? big >= -(2n ** 63n) && big < 2n ** 63n : big >= 0n && big < 2n ** 64n;
      return fits ? big : undefined;
    }
    case 'float16':
      // No JSON representation is settled for float16 (the inference protocol's spec says so).
      return undefined;
    default: {
      const [min, max] = INT_RANGES[type]!;
      return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : undefined;
    }
  }
}
