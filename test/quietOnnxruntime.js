// Runs before each test file (jest `setupFiles`): ONNX Runtime's native logger prints errors the tests provoke on
// purpose (an out-of-range Gather index, a CUDA provider that is not installed) as red lines on stderr, outside
// jest's console capture. The tests assert those failures through the errors the library reports; the log level
// here only keeps `npm test` free of alarming lines. onnxruntime-common is plain JavaScript (no addon is loaded);
// onnxruntime-node reads `env.logLevel` when it initializes its native side, once per process.
require('onnxruntime-common').env.logLevel = 'fatal';
