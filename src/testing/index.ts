/* Testing */
export { FakeModelHandler } from './FakeModelHandler.js';

/* Types */
export type { FakeModelHandlerConfig, FakeModel } from './FakeModelHandler.js';
