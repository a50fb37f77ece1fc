/** Where jest's global setup (./global-setup.ts) writes the workflow bundles of a jest run. */
import { join } from 'node:path';

export type BundleKind = 'plain' | 'tracing';

export const BUNDLE_DIR = join(__dirname, '..', '..', '.data', 'jest');

export const bundleFile = (kind: BundleKind) => join(BUNDLE_DIR, `workflow-bundle-${kind}.js`);
