import { TestEnvironment } from 'jest-environment-node';

/** Jest's node environment with the outer realm's typed arrays, so onnxruntime-node's outputs pass its checks. */
declare class SharedTypedArrayEnvironment extends TestEnvironment {}

export = SharedTypedArrayEnvironment;
