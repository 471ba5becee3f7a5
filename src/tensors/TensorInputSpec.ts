import type { TensorType } from './TensorType.js';

/** What the tensor layer checks an element's input against: a model input's name, declared type and shape. */
export interface TensorInputSpec {
  /** Input name. */
  readonly name: string;
  /** Declared element type; `undefined` when unknown (then the data's type is taken). */
  readonly type: TensorType | undefined;
  /** Declared shape including the batch axis (numbers fixed, strings symbolic); `undefined` when unknown. */
  readonly shape: readonly (number | string)[] | undefined;
}
