// `rxjs-inference/tfjs`: the TensorFlow.js handler. Its declarations reference `@tensorflow/tfjs`'s types only.

/* Handlers */
export { TfjsModelHandler } from '../handlers/tfjs/TfjsModelHandler.js';

/* Types */
export type { TfjsModelHandlerConfig, TfjsOutputMode, TfjsPrediction } from '../handlers/tfjs/TfjsModelHandler.js';
export type { TfjsModel, TfjsModelType } from '../handlers/tfjs/TfjsModel.js';
export type {
  TfjsBackendName,
  TfjsLogger,
  TfjsModule,
  TfjsRuntimeImporter,
  TfjsRuntimePackage,
} from '../handlers/tfjs/tfjsRuntime.js';
export type {
  TfjsExample,
  TfjsTensorLike,
  TfjsTensorData,
  TfjsNestedArray,
  TfjsTypedArray,
  TfjsNumericDType,
  TfjsInputSpec,
} from '../handlers/tfjs/tfjsExamples.js';
export type { TfjsOutput, TfjsInference, TfjsTensorInference } from '../handlers/tfjs/tfjsOutputs.js';
