// postinstall: smart-whisper compiles whisper.cpp with node-gyp's default flags, which leave out
// AVX2/FMA/F16C and make it about 7 times slower. When this CPU has them and the build lacks
// them, rebuild once with the portable SIMD flags (CI installs with them set, so nothing to do).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const FLAGS = '-O3 -mavx2 -mfma -mf16c';

function systemInfo() {
  try {
    const koffi = require('koffi');
    const addon = join(dirname(require.resolve('smart-whisper/package.json')), 'build/Release/smart-whisper.node');
    return String(koffi.load(addon, { lazy: true }).func('const char *whisper_print_system_info(void)')());
  } catch {
    return undefined;
  }
}

function cpuHasSimd() {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8');
    return ['avx2', 'fma', 'f16c'].every((flag) => new RegExp(`\\b${flag}\\b`).test(flags));
  } catch {
    return false;
  }
}

const info = systemInfo();
if (process.arch !== 'x64' || info === undefined || !cpuHasSimd() || !/\bAVX2 = 0\b|\bFMA = 0\b/.test(info)) process.exit(0);
console.error('parley: rebuilding smart-whisper (whisper.cpp) with AVX2/FMA/F16C, about a minute ...');
const result = spawnSync('npm', ['rebuild', 'smart-whisper'], {
  stdio: 'inherit',
  env: { ...process.env, CFLAGS: FLAGS, CXXFLAGS: FLAGS },
});
if (result.status !== 0) console.error(`parley: the SIMD rebuild failed; whisper.cpp stays slow. Try: CFLAGS="${FLAGS}" CXXFLAGS="${FLAGS}" npm rebuild smart-whisper`);
