// `rxjs-inference/testing/environment`: a jest test environment for tests that run real ONNX Runtime models.
//
// Jest gives each test file its own realm, with its own typed-array constructors, while native addons
// (onnxruntime-node) create their outputs with the outer realm's. `instanceof Float32Array` then fails inside
// onnxruntime-common and every batch fails with "A float32 tensor's data must be type of function Float32Array()".
// This environment is jest's node environment with the outer realm's typed arrays, ArrayBuffer and DataView shared
// into the test realm. Use it with `testEnvironment: 'rxjs-inference/testing/environment'` (needs
// jest-environment-node, which jest installs).
'use strict';

const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class SharedTypedArrayEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
    // Node's own `require`, for the few packages jest's module registry cannot load: native ES modules such as the
    // npm package `webgpu` (Dawn's bindings; Node ≥ 20.19 loads ES modules with `require`). Test files only.
    this.global.nodeRequire = require;
  }
}

module.exports = SharedTypedArrayEnvironment;
