// Makes sure the Debian packages the embedded engines need are present (README "Install").
// Root on Debian/Ubuntu: installs them with apt-get. Otherwise: prints the exact command.
// `--with-tests` adds what the test suite uses (real speech fixtures, a browser, sox, PostgreSQL, nginx).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const RUNTIME = [
  ['libpocketsphinx3', '/usr/lib/x86_64-linux-gnu/libpocketsphinx.so.3'],
  ['pocketsphinx-en-us', '/usr/share/pocketsphinx/model/en-us/en-us'],
  // Audio codecs and echo cancellation (src/audio/codecs/native.ts), called through koffi.
  ['libopus0', '/usr/lib/x86_64-linux-gnu/libopus.so.0'],
  ['libopusenc0', '/usr/lib/x86_64-linux-gnu/libopusenc.so.0'],
  ['libogg0', '/usr/lib/x86_64-linux-gnu/libogg.so.0'],
  ['libflac12', '/usr/lib/x86_64-linux-gnu/libFLAC.so.12'],
  ['libmp3lame0', '/usr/lib/x86_64-linux-gnu/libmp3lame.so.0'],
  ['libspeexdsp1', '/usr/lib/x86_64-linux-gnu/libspeexdsp.so.1'],
];
const TESTS = [
  ['pocketsphinx-testdata', '/usr/share/pocketsphinx/test/data/librivox'],
  ['chromium', '/usr/bin/chromium'],
  ['sox', '/usr/bin/sox'],
  ['espeak-ng', '/usr/bin/espeak-ng'],
  // Independent encoders and decoders for the audio format round trips (test/runtime/audio-formats.test.ts).
  ['ffmpeg', '/usr/bin/ffmpeg'],
  // The store's PostgreSQL tests and the many-process test behind nginx start these themselves.
  ['postgresql', '/usr/lib/postgresql'],
  ['nginx', '/usr/sbin/nginx'],
];

const wanted = [...RUNTIME, ...(process.argv.includes('--with-tests') ? TESTS : [])];
const missing = wanted.filter(([, path]) => !existsSync(path)).map(([name]) => name);
if (missing.length === 0) process.exit(0);

const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
const isRoot = process.getuid?.() === 0;
const hasApt = existsSync('/usr/bin/apt-get');
if (!isRoot || !hasApt) {
  console.error(`Parley's local engines need Debian packages that are missing: ${missing.join(', ')}.`);
  console.error(hasApt ? `Install them with:\n  sudo apt-get update && sudo ${command}` : 'Install their equivalents with your package manager.');
  process.exit(0);
}
console.error(`Installing ${missing.join(', ')} with apt-get ...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], command.split(' ').slice(1)]) {
  const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed; install the packages by hand: ${command}`);
    process.exit(1);
  }
}
