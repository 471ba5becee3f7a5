// Classifies iris flowers with a TensorFlow.js layers model through runInference.
//
//   npx tsx examples/tfjs-classification.ts                 # the built-in 4 → 3 softmax model below
//   npx tsx examples/tfjs-classification.ts path/model.json # any layers model taking 4 features
//
// The handler picks the best installed TensorFlow.js runtime (tfjs-node-gpu, tfjs-node, wasm, then cpu), logs its
// choice once, and makes that backend the process's. Results carry plain `{ data, shape }` arrays: no tensor to
// dispose.
import { from, map } from 'rxjs';
import { runInference } from 'rxjs-inference';
import { TfjsModelHandler, type TfjsModelHandlerConfig, type TfjsOutput } from 'rxjs-inference/handlers';

const SPECIES = ['setosa', 'versicolor', 'virginica'];

// A hand-set linear classifier on sepal length/width and petal length/width (kernel [4, 3], bias [3]).
const KERNEL = [0, 0, 0, 1, 0, -0.5, -2, 0.5, 1.5, -2, 0.5, 3];
const BIAS = [6, 1.5, -7.5];

/** The model as TensorFlow.js saves it (model.json's topology and weight specs), served from memory. */
const inMemoryModel: TfjsModelHandlerConfig['ioHandler'] = {
  load: async () => ({
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'iris',
        layers: [
          {
            class_name: 'Dense',
            config: { name: 'species', units: 3, activation: 'softmax', use_bias: true, batch_input_shape: [null, 4] },
          },
        ],
      },
    },
    weightSpecs: [
      { name: 'species/kernel', shape: [4, 3], dtype: 'float32' },
      { name: 'species/bias', shape: [3], dtype: 'float32' },
    ],
    weightData: Float32Array.from([...KERNEL, ...BIAS]).buffer,
  }),
};

const flowers: { id: string; features: number[] }[] = [
  { id: 'a', features: [5.1, 3.5, 1.4, 0.2] },
  { id: 'b', features: [6.0, 2.9, 4.5, 1.5] },
  { id: 'c', features: [6.5, 3.0, 5.8, 2.2] },
  { id: 'd', features: [4.9, 3.0, 1.4, 0.2] },
  { id: 'e', features: [5.7, 2.8, 4.1, 1.3] },
  { id: 'f', features: [7.2, 3.6, 6.1, 2.5] },
];

const modelPath = process.argv[2];
const handler = new TfjsModelHandler(
  modelPath ? { modelUri: modelPath, modelType: 'layers' } : { ioHandler: inMemoryModel, modelType: 'layers' },
);

from(flowers.map((f) => f.features))
  .pipe(
    runInference(handler),
    map(({ example, inference }, i) => {
      const probabilities = (inference as TfjsOutput).data; // one output: a plain typed array, shape [3]
      const best = probabilities.indexOf(Math.max(...probabilities));
      const shown = Array.from(probabilities, (p) => p.toFixed(3)).join(' ');
      return `${flowers[i]?.id}: [${example.toString()}] → ${SPECIES[best] ?? best}  (p = ${shown})`;
    }),
  )
  .subscribe({
    next: (line) => console.log(line),
    error: (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  });
