import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import { OnnxModelHandler } from '../../../src/index';
import type { TensorLike } from '../../../src/index';
import { decodeModel, mlp } from '../../../scripts/fixtures/onnx';
import { writeFixtures } from '../../../scripts/fixtures/onnx/write';
import { context, tempModels } from './onnxTestUtils';

interface JsonTensor {
  readonly type: string;
  readonly dims: number[];
  readonly data: (number | string)[];
}

function fromJson({ type, dims, data }: JsonTensor): TensorLike {
  const typed =
    type === 'float32'
      ? Float32Array.from(data as number[])
      : type === 'float64'
        ? Float64Array.from(data as number[])
        : type === 'int32'
          ? Int32Array.from(data as number[])
          : type === 'int64'
            ? BigInt64Array.from(data as string[], BigInt)
            : Uint8Array.from(data as number[]);
  return { type: type as TensorLike['type'], dims, data: typed };
}

describe('ONNX fixtures: write.ts writes models and reference outputs that onnxruntime reproduces', () => {
  const files = tempModels({});
  afterAll(() => files.cleanup());

  it('every written model, run on its sample inputs, gives its reference outputs (± 1e-5)', async () => {
    const written = writeFixtures(files.dir, 3);
    expect(written.length).toBe(readdirSync(files.dir).length);
    const references = written.filter((p) => p.endsWith('.reference.json'));
    expect(references.length).toBe(9);
    for (const path of references) {
      const reference = JSON.parse(readFileSync(path, 'utf8'));
      const handler = new OnnxModelHandler({ modelUri: join(files.dir, reference.model) });
      const model = await handler.loadModel();
      const batch = reference.samples.map((s: { inputs: Record<string, JsonTensor> }) =>
        Object.fromEntries(Object.entries(s.inputs).map(([name, t]) => [name, fromJson(t)])),
      );
      const results = await handler.runInference(batch, model, context());
      results.forEach((result, p) => {
        const expected: Record<string, JsonTensor> = reference.samples[p].outputs;
        for (const [name, tensor] of Object.entries(expected)) {
          const actual = (
            reference.outputNames.length === 1 ? result.inference : (result.inference as Record<string, Tensor>)[name]
          ) as Tensor;
          expect(actual.dims).toEqual(tensor.dims);
          Array.from(actual.data as ArrayLike<number | bigint>).forEach((v, i) => {
            if (typeof v === 'bigint') expect(v.toString()).toBe(tensor.data[i]);
            else expect(Math.abs(v - (tensor.data[i] as number))).toBeLessThanOrEqual(1e-5);
          });
        }
      });
      await handler.releaseModel(model);
    }
  });

  it('the encoder writes the upstream ONNX structure (dynamic batch as dim_param, opset 17)', () => {
    const decoded = decodeModel(mlp([3, 2]).bytes) as any;
    expect(decoded.irVersion).toBe(8);
    expect(decoded.opsetImport).toEqual([{ version: 17 }]); // domain '' (the default) is not written
    expect(decoded.graph.input[0].type.tensorType.shape.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 3 }]);
    expect(decoded.graph.node.map((n: { opType: string }) => n.opType)).toEqual(['MatMul', 'Add']);
    expect(mlp([3, 2]).bytes).toEqual(mlp([3, 2]).bytes); // deterministic
  });
});
