export { createDirector, DirectorFeature, fillParams, RECALL_ACTION } from './feature.js';
export { DirectorEngine, micKey, type MicInput } from './engine.js';
export { DirectorSectionSchema, directorSettings, type DirectorSection } from './config.js';
export type * from './types.js';
