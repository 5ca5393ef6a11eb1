// Worker module: runs the 'listen.check' jobs (check-decode.ts).
import { registerJobHandler } from '../../workers/worker-runtime.js';
import { LISTEN_CHECK_JOB_KIND, checkedText } from './check-decode.js';
import type { GrammarCheck } from './listen-job.js';

registerJobHandler<GrammarCheck, never, string>(LISTEN_CHECK_JOB_KIND, (payload, job) => {
  job.emit(checkedText(payload));
});
