// Running a TensorFlow.js model on a packed batch, with every tensor but the outputs disposed (SPEC §4).
import type { GraphModel, LayersModel, Tensor } from '@tensorflow/tfjs';
import { type TfjsModel, isWeight, markAsync, needsAsync } from './TfjsModel.js';
import type { TfjsTypedArray } from './tfjsExamples.js';
import type { PackedInput } from './tfjsPacking.js';
import type { TfjsModule } from './tfjsRuntime.js';

function makeInputs(tf: TfjsModule, packed: readonly PackedInput[]): Tensor[] {
  return packed.map((p) =>
    p.tensors !== undefined
      ? tf.stack(p.tensors as Tensor[])
      : tf.tensor(p.values as TfjsTypedArray, p.shape as number[], p.dtype),
  );
}

function asArray(result: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(result) ? result : [result];
}

function named(packed: readonly PackedInput[], tensors: readonly Tensor[]): Record<string, Tensor> {
  const map: Record<string, Tensor> = {};
  packed.forEach((p, k) => (map[p.name] = tensors[k] as Tensor));
  return map;
}

async function executeAsync(tf: TfjsModule, model: TfjsModel, packed: readonly PackedInput[]): Promise<Tensor[]> {
  const inputs = tf.tidy(() => makeInputs(tf, packed));
  try {
    const graph = model.model as GraphModel;
    const outputs = asArray(await graph.executeAsync(named(packed, inputs), model.outputNames as string[]));
    return outputs.map((o) => (isWeight(model, o) ? o.clone() : o));
  } finally {
    tf.dispose(inputs);
  }
}

/**
 * Runs the model on packed inputs: `predictOnBatch` for layers models, `execute` for graph models, or `executeAsync`
 * once a graph has refused `execute` (control flow, dynamic shapes). Only the outputs survive: inputs and
 * intermediates are disposed, on success and on error; a graph output that is one of the model's weights comes back
 * as a clone, so that disposing the outputs never disposes the model.
 */
export async function executeModel(
  tf: TfjsModule,
  model: TfjsModel,
  packed: readonly PackedInput[],
): Promise<Tensor[]> {
  if (model.modelType === 'graph' && needsAsync(model)) return executeAsync(tf, model, packed);
  try {
    return tf.tidy(() => {
      const inputs = makeInputs(tf, packed);
      if (model.modelType === 'layers') {
        const layers = model.model as LayersModel;
        return asArray(layers.predictOnBatch(inputs.length === 1 ? (inputs[0] as Tensor) : inputs));
      }
      const outputs = asArray(
        (model.model as GraphModel).execute(named(packed, inputs), model.outputNames as string[]),
      );
      // A graph can output a weight as is: hand out a clone, so disposing outputs never disposes the model.
      return outputs.map((o) => (isWeight(model, o) ? o.clone() : o));
    });
  } catch (error) {
    // Graphs with control flow or dynamic shapes refuse `execute` ("... Please use model.executeAsync() instead").
    if (model.modelType === 'graph' && /executeAsync/.test(String((error as Error)?.message))) {
      markAsync(model);
      return executeAsync(tf, model, packed);
    }
    throw error;
  }
}
