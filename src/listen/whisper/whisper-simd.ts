import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import koffi from 'koffi';

const require = createRequire(import.meta.url);

/**
 * whisper.cpp's own account of the CPU features it was compiled with ("AVX2 = 1 | FMA = 1 ..."),
 * read from the smart-whisper addon without initializing it; undefined when it cannot be read.
 */
export function whisperSystemInfo(): string | undefined {
  try {
    const addon = join(dirname(require.resolve('smart-whisper/package.json')), 'build/Release/smart-whisper.node');
    const library = koffi.load(addon, { lazy: true });
    return String(library.func('const char *whisper_print_system_info(void)')());
  } catch {
    return undefined;
  }
}

/** On x86-64, whisper.cpp built without AVX2/FMA runs about 7 times slower (measured on this project's 2-core machines). */
export function lacksSimd(info: string): boolean {
  return process.arch === 'x64' && (/\bAVX2 = 0\b/.test(info) || /\bFMA = 0\b/.test(info));
}
