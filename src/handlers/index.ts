/* Handlers */
export { ModelHandler } from '../models/ModelHandler.js';
