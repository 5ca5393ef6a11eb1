import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The test runner starts files without --expose-gc; the flag can still be set at run time.
setFlagsFromString('--expose-gc');
/** A full garbage collection. */
export const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Memory the process still holds after a full garbage collection, in MB: the JS heap plus the
 * buffers outside it. RSS alone also counts garbage not yet collected and pages the allocator
 * keeps, so it says little about what a test's load left behind.
 */
export async function retainedMb(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, external } = process.memoryUsage();
  return (heapUsed + external) / 1024 / 1024;
}
