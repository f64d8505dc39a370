import { packageVersion } from './util/package-root.js';

export const VERSION = packageVersion();
