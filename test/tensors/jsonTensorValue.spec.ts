import { allocateTensorData, jsonTensorValue } from 'rxjs-inference';

describe('jsonTensorValue (the JSON → tensor value rule of the CLI and the inference server)', () => {
  it.each([
    [1.5, 'float32', 1.5],
    [1e39, 'float32', undefined],
    [1e39, 'float64', 1e39],
    ['1', 'float64', undefined],
    [127, 'int8', 127],
    [128, 'int8', undefined],
    [1.5, 'int32', undefined],
    [-1, 'uint32', undefined],
    [true, 'bool', 1],
    [false, 'bool', 0],
    [1, 'bool', undefined],
    ['a', 'string', 'a'],
    [3, 'string', undefined],
    ['9007199254740993', 'int64', 9007199254740993n],
    [-5, 'uint64', undefined],
    ['18446744073709551615', 'uint64', 18446744073709551615n],
    ['18446744073709551616', 'uint64', undefined],
    [1, 'float16', undefined],
  ] as const)('%p as %s is %p', (value, type, expected) => {
    expect(jsonTensorValue(value, type)).toEqual(expected);
  });

  it('takes 0 and 1 for bool with boolFromNumbers (JSON lines)', () => {
    expect(jsonTensorValue(1, 'bool', { boolFromNumbers: true })).toBe(1);
    expect(jsonTensorValue(0, 'bool', { boolFromNumbers: true })).toBe(0);
    expect(jsonTensorValue(2, 'bool', { boolFromNumbers: true })).toBeUndefined();
  });
});

describe('allocateTensorData (the one dtype → typed array table)', () => {
  it.each([
    ['float32', Float32Array],
    ['float64', Float64Array],
    ['float16', Uint16Array],
    ['int8', Int8Array],
    ['uint8', Uint8Array],
    ['bool', Uint8Array],
    ['int16', Int16Array],
    ['uint16', Uint16Array],
    ['int32', Int32Array],
    ['uint32', Uint32Array],
    ['int64', BigInt64Array],
    ['uint64', BigUint64Array],
  ] as const)('%s → %p', (type, kind) => {
    const data = allocateTensorData(type, 3);
    expect(data).toBeInstanceOf(kind);
    expect(data).toHaveLength(3);
  });

  it('string → an array of empty strings', () => {
    expect(allocateTensorData('string', 2)).toEqual(['', '']);
  });
});
