import { describeTfjsHandler } from './handlerSuite';

// TfjsModelHandler on the real wasm backend of @tensorflow/tfjs (one backend per file: it is process-wide).
describeTfjsHandler('wasm');
