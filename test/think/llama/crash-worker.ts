// Test-only worker module: a job that kills its worker thread, as a native crash would.
import { registerJobHandler } from '../../../src/workers/worker-runtime.js';

registerJobHandler('test.crash', () => {
  process.exit(3);
});
