// The server's log lines: readable text for a person at a terminal, JSON for machines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, logFormat, textLine } from '../../src/core/logger.js';

test('the log format is text on a terminal and JSON otherwise, unless PARLEY_LOG_FORMAT says', () => {
  assert.equal(logFormat({}, true), 'text');
  assert.equal(logFormat({}, false), 'json');
  assert.equal(logFormat({ PARLEY_LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(logFormat({ PARLEY_LOG_FORMAT: 'text' }, false), 'text');
  assert.equal(logFormat({ PARLEY_LOG_FORMAT: 'fancy' }, false), 'json');
});

test('a text line holds the time, level, message and fields, and secrets are redacted before it is written', () => {
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    written.push(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    createLogger('info', 'text').info({ session: 'ab12', key: 'sk-secret', path: '/v1/agent converse' }, 'session opened');
  } finally {
    process.stdout.write = write;
  }
  assert.equal(written.length, 1);
  assert.match(written[0] ?? '', /^\d\d:\d\d:\d\d INFO  session opened {2}session=ab12 key=\[redacted\] path="\/v1\/agent converse"\n$/);
  assert.doesNotMatch(written[0] ?? '', /sk-secret/);
  assert.equal(textLine('not json\n'), 'not json\n');
});
