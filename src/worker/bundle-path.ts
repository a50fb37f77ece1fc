import { join } from 'node:path';

/** Where `npm run build` writes the prebuilt workflow bundle (dist/workflow-bundle.js). */
export const DEFAULT_BUNDLE_PATH = join(__dirname, '..', '..', 'workflow-bundle.js');
