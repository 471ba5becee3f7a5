/**
 * One event of `streamInference`: a partial output of element `index` (its position in the source), or its end
 * with its final result (what `runInference` would emit for it).
 */
export type InferenceEvent<P, Out> =
  | { readonly kind: 'partial'; readonly index: number; readonly value: P }
  | { readonly kind: 'end'; readonly index: number; readonly result: Out };
