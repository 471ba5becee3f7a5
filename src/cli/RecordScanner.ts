/** Powers of ten a double holds exactly (10^0 … 10^22). */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Largest integer a double holds exactly, and every one below it. */
const MAX_EXACT = 2 ** 53;

/** Where the last number {@link readNumber} read ends. */
let numberEnd = 0;

/**
 * The JSON number at `at` (its end in {@link numberEnd}), or NaN when the text there is not one. A module function with
 * plain locals: the scanner's hot loop.
 */
function readNumber(text: string, at: number): number {
  const start = at;
  let c = text.charCodeAt(at);
  const negative = c === 45; /* - */
  if (negative) c = text.charCodeAt(++at);
  let mantissa = 0;
  let exponent = 0;
  if (c === 48 /* 0 */) {
    c = text.charCodeAt(++at);
  } else if (c >= 49 && c <= 57) {
    do {
      mantissa = mantissa * 10 + (c - 48);
      c = text.charCodeAt(++at);
    } while (c >= 48 && c <= 57);
  } else {
    return NaN;
  }
  if (c === 46 /* . */) {
    c = text.charCodeAt(++at);
    if (!(c >= 48 && c <= 57)) return NaN;
    do {
      mantissa = mantissa * 10 + (c - 48);
      exponent--;
      c = text.charCodeAt(++at);
    } while (c >= 48 && c <= 57);
  }
  let exact = true;
  if (c === 101 || c === 69 /* e E */) {
    c = text.charCodeAt(++at);
    const sign = c === 45 ? -1 : 1;
    if (c === 45 || c === 43 /* - + */) c = text.charCodeAt(++at);
    if (!(c >= 48 && c <= 57)) return NaN;
    let written = 0;
    do {
      written = written * 10 + (c - 48);
      c = text.charCodeAt(++at);
    } while (c >= 48 && c <= 57);
    if (written > 1000) exact = false;
    else exponent += sign * written;
  }
  numberEnd = at;
  if (exact && mantissa < MAX_EXACT && exponent >= -22 && exponent <= 22) {
    const value = exponent < 0 ? mantissa / EXACT_POWERS_OF_TEN[-exponent] : mantissa * EXACT_POWERS_OF_TEN[exponent];
    return negative ? -value : value;
  }
  return Number(text.slice(start, at));
}

/** Number of values the scratch buffer starts with; it doubles as needed. */
const INITIAL_SCRATCH = 64;

/** Which keys {@link RecordScanner} reads. */
export interface RecordScannerConfig {
  /**
   * Top-level keys any one of which may hold the input (the CLI's default rule, `input` / `features` / the model's
   * input name, or the one `--input-field`). A record holding two of them takes the general path.
   */
  readonly inputKeys: readonly string[];
  /** Top-level key of `--id-field`; `undefined` without one. Must not be one of `inputKeys`. */
  readonly idKey: string | undefined;
  /** Element type of the input: the values are stored as it stores them. */
  readonly dtype: 'float32' | 'float64';
}

/**
 * The main job's common line — a JSON object whose input field is a flat array of finite numbers, and whose other
 * fields are strings, numbers, `true`, `false` or `null` — read in one pass over its characters, with no parsed
 * object, array or number per value (issue 11, the main job: `JSON.parse` and the copy into a typed array were a
 * quarter of the command's time).
 *
 * {@link scan} returns exactly what `JSON.parse` followed by the CLI's input mapping gives for such a line: the
 * values as the typed array stores them, and the id. Anything else — any line it is not certain to read the same
 * way (escapes in strings, nested values, a key twice, an empty array, a value beyond the element type's range,
 * malformed JSON) — gives `undefined`, and the caller takes the general path, which also writes the error messages.
 *
 * Numbers: a decimal with at most 2^53 as its digits and a power of ten up to 10^22 is one exact integer divided
 * (or multiplied) by one exact power, so one correctly rounded operation: the double `JSON.parse` gives. Any other
 * number is read by `Number` of its text, which also rounds correctly.
 */
export class RecordScanner {
  /** The id of the last line scanned (`undefined` when the line has no id key). */
  id: unknown = undefined;

  private readonly inputKeys: readonly string[];
  private readonly idKey: string | undefined;
  private readonly float32: boolean;
  private scratch: Float32Array | Float64Array;
  private text = '';
  private at = 0;

  constructor({ inputKeys, idKey, dtype }: RecordScannerConfig) {
    this.inputKeys = inputKeys;
    this.idKey = idKey;
    this.float32 = dtype === 'float32';
    this.scratch = this.float32 ? new Float32Array(INITIAL_SCRATCH) : new Float64Array(INITIAL_SCRATCH);
  }

  /** The line's input values (a new typed array of their exact length), or `undefined` for the general path. */
  scan(text: string): Float32Array | Float64Array | undefined {
    this.text = text;
    this.at = 0;
    this.id = undefined;
    this.skipSpace();
    if (text.charCodeAt(this.at) !== 123 /* { */) return undefined;
    this.at++;
    this.skipSpace();
    let values: Float32Array | Float64Array | undefined;
    if (text.charCodeAt(this.at) === 125 /* } */) return undefined;
    for (;;) {
      const keyStart = this.at + 1;
      if (!this.string()) return undefined;
      const keyEnd = this.at - 1;
      this.skipSpace();
      if (text.charCodeAt(this.at) !== 58 /* : */) return undefined;
      this.at++;
      this.skipSpace();
      if (this.isKey(keyStart, keyEnd, this.idKey)) {
        // The last occurrence wins, as in JSON.parse.
        if (!this.scalar(true)) return undefined;
      } else if (this.isInputKey(keyStart, keyEnd)) {
        if (values !== undefined) return undefined;
        values = this.numbers();
        if (values === undefined) return undefined;
      } else if (!this.scalar(false)) {
        return undefined;
      }
      this.skipSpace();
      const c = text.charCodeAt(this.at++);
      if (c === 44 /* , */) {
        this.skipSpace();
        continue;
      }
      if (c !== 125 /* } */) return undefined;
      break;
    }
    this.skipSpace();
    return this.at === text.length ? values : undefined;
  }

  private skipSpace(): void {
    const { text } = this;
    let { at } = this;
    let c = text.charCodeAt(at);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++at);
    this.at = at;
  }

  /** A string without escapes or control characters, from `"` to after its closing `"`. */
  private string(): boolean {
    const { text } = this;
    let at = this.at;
    if (text.charCodeAt(at) !== 34 /* " */) return false;
    for (;;) {
      const c = text.charCodeAt(++at);
      if (c === 34) break;
      // A backslash, a control character, or the end of the text (NaN).
      if (c === 92 || !(c >= 32)) return false;
    }
    this.at = at + 1;
    return true;
  }

  private isKey(start: number, end: number, key: string | undefined): boolean {
    return key !== undefined && end - start === key.length && this.text.startsWith(key, start);
  }

  private isInputKey(start: number, end: number): boolean {
    for (const key of this.inputKeys) if (this.isKey(start, end, key)) return true;
    return false;
  }

  /** A string, number, `true`, `false` or `null`; kept as {@link id} when `isId`. */
  private scalar(isId: boolean): boolean {
    const { text } = this;
    const start = this.at;
    const c = text.charCodeAt(start);
    let value: unknown;
    if (c === 34 /* " */) {
      if (!this.string()) return false;
      if (isId) value = text.slice(start + 1, this.at - 1);
    } else if (c === 116 /* t */ || c === 102 /* f */ || c === 110 /* n */) {
      const word = c === 116 ? 'true' : c === 102 ? 'false' : 'null';
      if (!text.startsWith(word, start)) return false;
      this.at = start + word.length;
      value = c === 116 ? true : c === 102 ? false : null;
    } else {
      value = readNumber(text, start);
      if (value !== value) return false;
      this.at = numberEnd;
    }
    if (isId) this.id = value;
    return true;
  }

  /** `[` finite numbers `]` into a new typed array; `undefined` for anything else. */
  private numbers(): Float32Array | Float64Array | undefined {
    const { text } = this;
    let at = this.at;
    if (text.charCodeAt(at) !== 91 /* [ */) return undefined;
    let c = text.charCodeAt(++at);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++at);
    let scratch = this.scratch;
    let n = 0;
    for (;;) {
      const value = readNumber(text, at);
      if (value !== value) return undefined;
      if (n === scratch.length) {
        const grown = this.float32 ? new Float32Array(n * 2) : new Float64Array(n * 2);
        grown.set(scratch);
        this.scratch = scratch = grown;
      }
      scratch[n] = value;
      // Beyond float32's range (or a literal beyond a double's) the stored value is ±Infinity: the general path names it.
      if (scratch[n] - scratch[n] !== 0) return undefined;
      n++;
      at = numberEnd;
      c = text.charCodeAt(at++);
      while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(at++);
      if (c === 44 /* , */) {
        c = text.charCodeAt(at);
        while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++at);
        continue;
      }
      if (c !== 93 /* ] */) return undefined;
      this.at = at;
      return scratch.slice(0, n);
    }
  }
}
