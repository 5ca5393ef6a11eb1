// Worker module: synthesizes one sentence per 'flite.synthesize' job and streams it in chunks,
// so that playout can start on the first chunk and a cancel drops the rest.
import { registerJobHandler } from '../../workers/worker-runtime.js';
import { synthesizeWithFlite } from './flite-synth.js';
import { FLITE_JOB_KIND } from './flite-job.js';
import type { FliteChunk, FliteJobPayload } from './flite-job.js';

/** 100 ms at 16 kHz. */
const CHUNK_SAMPLES = 1600;

registerJobHandler<FliteJobPayload, never, FliteChunk>(FLITE_JOB_KIND, (payload, job) => {
  if (job.signal.aborted) return;
  const { samples, sampleRate } = synthesizeWithFlite(payload.text, payload.voice);
  for (let offset = 0; offset < samples.length && !job.signal.aborted; offset += CHUNK_SAMPLES) {
    const chunk = samples.slice(offset, offset + CHUNK_SAMPLES);
    job.emit({ samples: chunk, sampleRate }, [chunk.buffer]);
  }
});
