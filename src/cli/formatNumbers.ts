/**
 * JSON text of `Number(v.toPrecision(digits))` (`null` when `v` is not finite) — the same text `JSON.stringify` gives
 * for it, without parsing the rounded string back into a number and formatting that number again. In fixed notation
 * (no exponent) the text is `toPrecision`'s with the fraction's trailing zeros dropped: with at most 15 significant
 * digits, no shorter decimal lies within a double's precision of the rounded value, so that is exactly the shortest
 * representation `String` would print. Exponent forms (very large or small values) and more digits take the long way.
 */
export function roundedNumberText(v: number, digits: number): string {
  if (v !== v || v === Infinity || v === -Infinity) return 'null';
  const s = v.toPrecision(digits);
  if (digits > 15 || s.indexOf('e') >= 0) return numberText(Number(s));
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (s.charCodeAt(end - 1) === 46 /* . */) end--;
  return s.slice(0, end);
}

/** JSON text of a number as is (`null` when not finite), as `JSON.stringify` writes it. */
export function numberText(v: number): string {
  return v !== v || v === Infinity || v === -Infinity ? 'null' : String(v);
}

/**
 * JSON text of `values` as nested arrays of `dims` (a scalar for `[]`), each value written by `text`: the output of
 * `JSON.stringify(nest(values.map(read), dims))`, built directly as a string.
 */
export function nestedArrayText(
  values: ArrayLike<number>,
  dims: readonly number[],
  text: (v: number) => string,
): string {
  if (dims.length === 0) return text(values[0]);
  let out = '';
  const write = (depth: number, at: number, size: number): void => {
    out += '[';
    if (depth === dims.length - 1) {
      for (let i = 0; i < dims[depth]; i++) {
        if (i > 0) out += ',';
        out += text(values[at + i]);
      }
    } else {
      const step = size / dims[depth];
      for (let i = 0; i < dims[depth]; i++) {
        if (i > 0) out += ',';
        write(depth + 1, at + i * step, step);
      }
    }
    out += ']';
  };
  write(0, 0, values.length);
  return out;
}
