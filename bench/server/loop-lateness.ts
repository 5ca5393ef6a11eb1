/** The event-loop monitors' timer interval in the load benchmark's processes (ms). */
export const LOOP_RESOLUTION_MS = 10;

/**
 * How late a monitorEventLoopDelay timer fired, from one of its readings (ns). The monitor records
 * the whole interval between firings, so an idle loop reads about the resolution itself; what a
 * task on the loop delayed is the part past it.
 */
export function loopLatenessMs(readingNs: number): number {
  return Math.max(0, readingNs / 1e6 - LOOP_RESOLUTION_MS);
}
