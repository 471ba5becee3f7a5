/**
 * Source of the ONNX worker thread, run with `new Worker(WORKER_SOURCE, { eval: true, workerData })`.
 *
 * A string rather than a file, so the same code runs from the CommonJS and ES-module builds and under jest on the
 * TypeScript sources (no path to a compiled worker file to find). It loads `onnxruntime-node` from the absolute path
 * the main thread resolved (`workerData.ortPath`), creates ONE session from `workerData.model` (a path or the model's
 * bytes) and then answers `run` messages one at a time:
 *
 * - in: `{ type: 'run', id, feeds: { name: { type, data, dims } }, outputNames, runOptions }`, the typed arrays
 *   transferred by the main thread; the pool may post the next batch while one runs (it waits here, in order);
 * - out: `{ type: 'result', id, outputs: { name: { type, data, dims } } }`, output buffers transferred back (an output
 *   sharing its buffer is copied first), or `{ type: 'error', id, message }` when `session.run` throws.
 *
 * With `workerData.inferenceFn` (`{ path, exportName, options, hasOptions }`) the worker loads that module after its
 * session (`require`, or `import()` for an ES module), takes the export (called with `options` when `hasOptions`), and
 * runs it instead of `session.run`: `fn(session, tensors, { ort, runOptions, outputNames, inferenceArgs, modelId,
 * signal, emitPartial })`. `emitPartial(row, value)` posts `{ type: 'partial', id, row, value }`; `{ type: 'abort', id }`
 * (handled at once, not queued) aborts that run's `signal`, or, for a batch still waiting here, skips it (answered
 * with an `error`). There is no scheduler in a worker (`scheduler` is undefined).
 *
 * After the load it posts `{ type: 'ready', outputNames }` (the function's `outputNames`, if any), or
 * `{ type: 'loadError', message }`. `{ type: 'close' }` releases the
 * session after the runs already queued and lets the thread end. With `workerData.webGpuLock` (a model on WebGPU) the
 * session's creation, every run and its release hold the process-wide WebGPU lock (`webgpuLock.ts`: the same
 * compare-and-swap on the shared word, waited on with `Atomics.waitAsync`). Plain JavaScript (ES2020, CommonJS
 * `require`): it is not compiled.
 */
export const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { threadId } = require('node:worker_threads');
const messageOf = (e) => (e && typeof e.message === 'string' ? e.message : String(e));
const lockWord = workerData.webGpuLock ? new Int32Array(workerData.webGpuLock) : undefined;
// One WebGPU call at a time per process (see webgpuLock.ts): 0 = free, else the holder's threadId + 1.
async function locked(fn) {
  if (!lockWord) return fn();
  for (;;) {
    const holder = Atomics.compareExchange(lockWord, 0, 0, threadId + 1);
    if (holder === 0) break;
    const wait = Atomics.waitAsync(lockWord, 0, holder);
    if (wait.async) await wait.value;
  }
  try {
    return await fn();
  } finally {
    Atomics.store(lockWord, 0, 0);
    Atomics.notify(lockWord, 0);
  }
}
let session;
let inferenceFn;
// Runs of the inferenceFn in progress (id → AbortController), and runs aborted before they started.
const controllers = new Map();
const aborted = new Set();
async function loadInferenceFn({ path, exportName, options, hasOptions }) {
  let mod;
  try {
    mod = require(path);
  } catch (e) {
    if (!e || e.code !== 'ERR_REQUIRE_ESM') throw e;
    mod = await import(require('node:url').pathToFileURL(path).href);
  }
  let fn = mod[exportName];
  if (fn === undefined && exportName === 'default' && typeof mod === 'function') fn = mod;
  if (typeof fn !== 'function') throw new Error('its export \`' + exportName + '\` is not a function');
  if (hasOptions) fn = fn(options);
  if (typeof fn !== 'function') throw new Error('\`' + exportName + '(options)\` did not return a function');
  return fn;
}
const ready = (async () => {
  const ort = require(workerData.ortPath);
  try {
    session = await locked(() => ort.InferenceSession.create(workerData.model, workerData.sessionOptions));
  } catch (e) {
    parentPort.postMessage({ type: 'loadError', message: messageOf(e) });
    return undefined;
  }
  if (workerData.inferenceFn) {
    try {
      inferenceFn = await loadInferenceFn(workerData.inferenceFn);
    } catch (e) {
      parentPort.postMessage({
        type: 'loadError',
        message: 'cannot load its inferenceFn from ' + workerData.inferenceFn.path + ': ' + messageOf(e),
      });
      return undefined;
    }
  }
  const names = inferenceFn && Array.isArray(inferenceFn.outputNames) ? [...inferenceFn.outputNames] : undefined;
  parentPort.postMessage({ type: 'ready', outputNames: names });
  return ort;
})();
// Messages are handled strictly one after the other: session.run blocks this thread anyway.
let chain = ready;
parentPort.on('message', (message) => {
  if (message.type === 'abort') {
    const controller = controllers.get(message.id);
    if (controller) controller.abort(new Error('The batch was aborted.'));
    else aborted.add(message.id);
  }
  if (message.type === 'run') chain = chain.then((ort) => (ort ? run(ort, message).then(() => ort) : undefined));
  // Release the session before the thread ends, rather than leaving it to the teardown of the thread's environment.
  if (message.type === 'close') {
    chain = chain.then(async () => {
      if (session) await locked(() => session.release()).catch(() => undefined);
      parentPort.close();
    });
  }
});
async function run(ort, { id, feeds, outputNames, runOptions, inferenceArgs, modelId }) {
  // Ids grow, and this worker gets its batches in that order: an abort for an id below this one came too late.
  for (const old of aborted) if (old < id) aborted.delete(old);
  // A batch aborted while it waited here (the pool posts the next batch before this one ends) is not run.
  if (aborted.delete(id)) {
    parentPort.postMessage({ type: 'error', id, message: 'The batch was aborted.' });
    return;
  }
  let results;
  try {
    const tensors = {};
    for (const name of Object.keys(feeds)) {
      const { type, data, dims } = feeds[name];
      tensors[name] = new ort.Tensor(type, data, dims);
    }
    if (inferenceFn) {
      const controller = new AbortController();
      controllers.set(id, controller);
      const context = {
        ort, runOptions, outputNames, inferenceArgs, modelId, signal: controller.signal, scheduler: undefined,
        emitPartial: (row, value) => parentPort.postMessage({ type: 'partial', id, row, value }),
      };
      try {
        results = await locked(() => inferenceFn(session, tensors, context));
      } finally {
        controllers.delete(id);
      }
    } else {
      results = await locked(() =>
        runOptions ? session.run(tensors, outputNames, runOptions) : session.run(tensors, outputNames),
      );
    }
  } catch (e) {
    parentPort.postMessage({ type: 'error', id, message: messageOf(e) });
    return;
  }
  const outputs = {};
  const transfer = [];
  for (const name of outputNames) {
    const output = results[name];
    if (output === undefined) continue;
    let data = output.data;
    if (ArrayBuffer.isView(data)) {
      if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength || transfer.includes(data.buffer)) {
        data = data.slice();
      }
      transfer.push(data.buffer);
    }
    outputs[name] = { type: output.type, data, dims: output.dims };
  }
  parentPort.postMessage({ type: 'result', id, outputs }, transfer);
}
`;
