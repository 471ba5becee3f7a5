import { describeTfjsHandler } from './handlerSuite';

// TfjsModelHandler on the real cpu backend of @tensorflow/tfjs (one backend per file: it is process-wide).
describeTfjsHandler('cpu');
