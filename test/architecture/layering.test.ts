// The folders of src/ form floors (docs/architecture.md#folders-and-floors): a folder imports only
// folders on lower floors, never a sibling on its own floor. This test reads every import and
// fails on the first one that runs upward or sideways.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Top floor first. Folders on one line are siblings. */
const FLOORS: readonly (readonly string[])[] = [
  ['cli'],
  ['server'],
  ['telephony'],
  ['runtime', 'store', 'recording'],
  ['session'],
  ['listen', 'think', 'speak'],
  ['providers'],
  ['workers', 'audio', 'models'],
  ['core'],
  ['protocol'],
];
/** Folders beside the floors that import nothing else in src/ (the client must run without the server). */
const STANDALONE = new Set(['client']);
/** Only these floors may use a standalone folder. */
const STANDALONE_USERS: Readonly<Record<string, readonly string[]>> = { client: ['cli'] };

const floorOf = new Map(FLOORS.flatMap((folders, index) => folders.map((folder) => [folder, FLOORS.length - index])));

interface Import {
  /** Path of the importing file, relative to src/. */
  from: string;
  /** Path of the imported file, relative to src/ (may start with ../ when it lies outside). */
  to: string;
}

/** Every relative module a file reaches: imports, re-exports, import(), worker module URLs. */
function importsOf(path: string, text: string): Import[] {
  const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
  for (const match of text.matchAll(/(?:workerModuleUrl\(\s*import\.meta\.url\s*,|new URL\()\s*'(\.[^']*)'/g)) {
    specifiers.push(match[1] as string);
  }
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => ({ from: path, to: relative(SRC, resolve(dirname(join(SRC, path)), specifier)) }));
}

function topFolder(path: string): string | undefined {
  const parts = path.split('/');
  return parts.length > 1 && parts[0] !== '..' ? parts[0] : undefined;
}

/** The imports that break the floors, each with the reason. */
function layeringViolations(imports: readonly Import[]): string[] {
  const problems: string[] = [];
  for (const { from, to } of imports) {
    const source = topFolder(from);
    const target = topFolder(to);
    // src/index.ts is the library's front door; files outside src/ (package.json, config/) are data.
    if (source === undefined || target === undefined || source === target) continue;
    const what = `${from} imports ${to}`;
    if (STANDALONE.has(source)) {
      problems.push(`${what}: ${source}/ must not import anything else in src/`);
    } else if (STANDALONE.has(target)) {
      if (!(STANDALONE_USERS[target] ?? []).includes(source)) problems.push(`${what}: only ${STANDALONE_USERS[target]?.join(', ')} may use ${target}/`);
    } else {
      const sourceFloor = floorOf.get(source);
      const targetFloor = floorOf.get(target);
      if (sourceFloor === undefined) problems.push(`${what}: ${source}/ has no floor (add it to FLOORS and docs/architecture.md)`);
      else if (targetFloor === undefined) problems.push(`${what}: ${target}/ has no floor (add it to FLOORS and docs/architecture.md)`);
      else if (targetFloor === sourceFloor) problems.push(`${what}: ${source}/ and ${target}/ are siblings`);
      else if (targetFloor > sourceFloor) problems.push(`${what}: ${target}/ is above ${source}/`);
    }
  }
  return problems;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('layering of src/', () => {
  it('no folder imports one above it or a sibling', () => {
    const imports = sourceFiles(SRC).flatMap((path) => importsOf(relative(SRC, path), readFileSync(path, 'utf8')));
    assert.ok(imports.length > 300, `found only ${imports.length} imports: the scan is broken`);
    assert.deepEqual(layeringViolations(imports), []);
  });

  it('every folder of src/ has a floor', () => {
    const folders = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());
    assert.deepEqual(
      folders.filter((folder) => !floorOf.has(folder) && !STANDALONE.has(folder)),
      [],
    );
  });

  it('reports an upward, a sideways and a standalone import', () => {
    const found = layeringViolations([
      { from: 'audio/wav.ts', to: 'session/session.ts' },
      { from: 'listen/cloud/deepgram.ts', to: 'speak/cloud/deepgram.ts' },
      { from: 'client/index.ts', to: 'protocol/codes.ts' },
      { from: 'server/index.ts', to: 'client/index.ts' },
      { from: 'session/session.ts', to: 'audio/wav.ts' },
      { from: 'cli/main.ts', to: '../package.json' },
    ]);
    assert.equal(found.length, 4, found.join('\n'));
    assert.match(found[0] as string, /session\/ is above audio\//);
    assert.match(found[1] as string, /siblings/);
    assert.match(found[2] as string, /client\/ must not import/);
    assert.match(found[3] as string, /only cli may use client\//);
  });

  it('sees worker module URLs and dynamic imports', () => {
    const text = [
      "const pool = workerModuleUrl(import.meta.url, '../../session/x');",
      "const mod = await import('../../server/index.js');",
      "export { a } from '../../cli/main.js';",
    ].join('\n');
    assert.deepEqual(
      importsOf('audio/a/b.ts', text).map((found) => found.to).sort(),
      ['cli/main.js', 'server/index.js', 'session/x'],
    );
  });
});
