/* Operators */
export { watchFilePattern } from './watchFilePattern.js';

/* Types */
export type { WatchFilePatternConfig } from './watchFilePattern.js';
