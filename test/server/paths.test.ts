import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dialectForPath } from '../../src/server/index.js';
import { trimTrailingSlashes } from '../../src/core/url-path.js';
import { phoneDialectForPath } from '../../src/server/phone-paths.js';

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

  it('a path of a hundred thousand slashes is no path of Parley (and is read in one pass)', () => {
    const path = `${'/'.repeat(100_000)}x`;
    assert.equal(trimTrailingSlashes(path), path);
    assert.equal(dialectForPath(path), undefined);
    assert.equal(phoneDialectForPath(path), undefined);
  });
});
