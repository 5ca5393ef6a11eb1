import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dialectForPath } from '../../src/server/index.js';
import { trimTrailingSlashes } from '../../src/core/url-path.js';
import { phoneDialectForPath } from '../../src/server/phone-paths.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
/** `replace(/\/+$/, ...)` as it is written in source. */
const BACKTRACKING = String.raw`/\/+$/`;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the paths a client connects on', () => {
  it('are matched by their end, trailing slashes and a prefix allowed', () => {
    assert.equal(trimTrailingSlashes('/v1/agent/converse///'), '/v1/agent/converse');
    assert.equal(trimTrailingSlashes('///'), '');
    assert.equal(trimTrailingSlashes('/a/b'), '/a/b');
    assert.equal(dialectForPath('/base/v1/agent/converse/'), 'v1');
    assert.equal(dialectForPath('/agent//'), 'ea');
    assert.equal(dialectForPath('/v1/agent/converse/x'), undefined);
    assert.equal(phoneDialectForPath('/calls/twilio/')?.name, 'twilio');
    assert.equal(phoneDialectForPath('/telnyx')?.name, 'telnyx');
    assert.equal(phoneDialectForPath('/twilio/x'), undefined);
  });

  it('a path of a hundred thousand slashes is no path of Parley', () => {
    const path = `${'/'.repeat(100_000)}x`;
    assert.equal(trimTrailingSlashes(path), path);
    assert.equal(dialectForPath(path), undefined);
    assert.equal(phoneDialectForPath(path), undefined);
  });

  it('no source file trims slashes with the backtracking regex (quadratic on a path of slashes a client sends)', () => {
    const offenders = sourceFiles(SRC).filter((file) => readFileSync(file, 'utf8').includes(BACKTRACKING));
    assert.deepEqual(offenders.map((file) => relative(SRC, file)), ['core/url-path.ts'], 'only the comment that explains why trimTrailingSlashes exists');
  });
});
