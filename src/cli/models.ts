import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { CATALOGUE } from '../models/catalogue.js';
import { modelsDir } from '../models/cache-dir.js';
import { detectNeuralModels } from '../models/detect.js';
import { listModels } from '../models/list.js';
import { pullModels } from '../models/pull.js';

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

async function pullCommand(names: string[], opts: { dir?: string; baseUrl?: string; allowUnverified?: boolean }): Promise<void> {
  const dir = opts.dir ?? modelsDir();
  const bars = new cliProgress.MultiBar(
    { format: '{name} [{bar}] {percentage}% {done}/{size}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const perModel = new Map<string, cliProgress.SingleBar>();
  try {
    const results = await pullModels(names, {
      dir,
      ...(opts.baseUrl === undefined ? {} : { baseUrl: opts.baseUrl }),
      allowUnverified: opts.allowUnverified === true,
      onProgress: ({ name, received, total }) => {
        const size = total ?? received;
        let bar = perModel.get(name);
        if (bar === undefined) {
          bar = bars.create(size, received, { name, done: mb(received), size: mb(size) });
          perModel.set(name, bar);
        }
        bar.setTotal(size);
        bar.update(received, { done: mb(received), size: mb(size) });
      },
    });
    bars.stop();
    for (const r of results) {
      const note = r.status === 'present' ? 'already present' : r.verified === true ? 'verified' : `UNVERIFIED, digest ${r.digest ?? '?'}`;
      console.log(`${r.name}: ${r.path} (${note})`);
    }
  } catch (err) {
    bars.stop();
    console.error(`parley models pull: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

function listCommand(opts: { dir?: string }): void {
  const dir = opts.dir ?? modelsDir();
  console.log(`models dir: ${dir}`);
  for (const m of listModels(dir)) {
    const state = m.present ? 'present' : m.partialBytes !== undefined ? `partial (${mb(m.partialBytes)}, pull resumes)` : 'missing';
    console.log(`  ${m.role.padEnd(3)}  ${m.name.padEnd(32)} ${state.padEnd(12)} ${m.description}`);
  }
  const found = detectNeuralModels(dir === modelsDir() ? process.env : { ...process.env, PARLEY_MODELS_DIR: dir });
  console.log('in use by the neural tier:');
  console.log(`  stt: ${found.stt ?? '(none: classic engine)'}`);
  console.log(`  llm: ${found.llm ?? '(none: classic engine)'}`);
  console.log(`  tts: ${found.tts?.model ?? '(none: classic engine)'}`);
}

/** `parley models pull [names...]` and `parley models list`. */
export function registerModelsCommand(program: Command): void {
  const models = program.command('models').description('download and list the neural models (whisper, LLM, TTS voice)');
  models
    .command('pull')
    .description(`download models into the cache dir (default: all of ${CATALOGUE.map((e) => e.name).join(', ')})`)
    .argument('[names...]', 'catalogue names')
    .option('--dir <path>', 'models dir (default: $PARLEY_MODELS_DIR or ~/.cache/parley/models)')
    .option('--base-url <url>', 'fetch files from this mirror instead of their public addresses')
    .option('--allow-unverified', 'download entries that have no published checksum (prints the digest seen)')
    .action(pullCommand);
  models
    .command('list')
    .description('show which models are present')
    .option('--dir <path>', 'models dir')
    .action(listCommand);
}
