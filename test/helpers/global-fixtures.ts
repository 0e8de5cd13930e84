// Mocha global fixtures, loaded by .mocharc.json's `require`. The shared clusters start lazily on
// the first testClusters() call; whatever was started is stopped once, after all test files.
import { stopTestClusters } from './clusters.js';

export async function mochaGlobalTeardown(): Promise<void> {
  await stopTestClusters();
}
