import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { ProviderError } from '../../src/core/errors.js';
import type { HttpFake } from './fakes/http.js';

/** The provider-specific parts the shared failure tests need. */
export interface FailureSpec {
  fake: () => HttpFake;
  /** An error response of the provider's API for this status. */
  error(res: ServerResponse, status: number): void;
  /** Starts a successful stream and writes a few valid items, leaving it open. */
  head(res: ServerResponse): void;
  /** Writes an item the client cannot parse (absent for raw audio bodies, which have no items). */
  malformed?: (res: ServerResponse) => void;
  /** A reset mid-stream reaches the client as an error (not so for AWS's HTTP/2 body streams). */
  cutDetectable?: boolean;
  /** The stream has a final event, so a clean end without it is a failure. */
  finalEvent?: boolean;
  /** Runs one provider request to its end; `onItem` sees each item as it arrives. */
  run(signal: AbortSignal, onItem?: () => void): Promise<unknown[]>;
  /** Text the error message should contain for a 401 (the provider's own words). */
  unauthorizedText: RegExp;
  /** Secrets that must never show in an error message. */
  secret?: string;
}

async function failure(spec: FailureSpec): Promise<ProviderError> {
  try {
    await spec.run(new AbortController().signal);
  } catch (err) {
    assert.ok(err instanceof ProviderError, `expected ProviderError, got ${String(err)}`);
    assert.ok(err.message.length > 0);
    if (spec.secret !== undefined) assert.ok(!err.message.includes(spec.secret), 'secret leaked into the message');
    return err;
  }
  assert.fail('expected the request to fail');
}

/** Registers the failure and cancellation tests every streaming HTTP provider must pass. */
export function failureSuite(spec: FailureSpec): void {
  for (const status of [401, 429, 500]) {
    test(`HTTP ${status} becomes a ProviderError with that status`, async () => {
      spec.fake().handler = (_req, res) => spec.error(res, status);
      const err = await failure(spec);
      assert.equal(err.status, status);
      assert.match(err.message, new RegExp(String(status)));
      if (status === 401) assert.match(err.message, spec.unauthorizedText);
    });
  }

  // Providers whose wire format cannot reveal a cut or a missing end (e.g. Polly's raw PCM over
  // HTTP/2) have no such test rather than a skipped one.
  if (spec.cutDetectable !== false) {
    test('a stream that stops mid-way fails', async () => {
      spec.fake().handler = (_req, res) => {
        spec.head(res);
        setTimeout(() => res.destroy(), 30);
      };
      await failure(spec);
    });
  }

  if (spec.finalEvent !== false) {
    test('a stream that ends without its final event fails', async () => {
      spec.fake().handler = (_req, res) => {
        spec.head(res);
        setTimeout(() => res.end(), 30);
      };
      await failure(spec);
    });
  }

  test('a server that never answers times out', async () => {
    spec.fake().handler = () => undefined;
    const err = await failure(spec);
    assert.match(err.message, /no response within \d+ ms/);
  });

  test('a stream that stalls after its first items times out', async () => {
    spec.fake().handler = (_req, res) => spec.head(res);
    const err = await failure(spec);
    assert.match(err.message, /no response within \d+ ms/);
  });

  const malformed = spec.malformed;
  if (malformed !== undefined) {
    test('a malformed chunk fails', async () => {
      spec.fake().handler = (_req, res) => {
        spec.head(res);
        malformed(res);
      };
      await failure(spec);
    });
  }

  test('aborting the signal closes the HTTP stream and ends the iteration quietly', async () => {
    const fake = spec.fake();
    fake.reset();
    fake.handler = (_req, res) => spec.head(res);
    const controller = new AbortController();
    const items = await spec.run(controller.signal, () => controller.abort());
    assert.ok(items.length <= 1);
    await fake.waitForAbort();
  });
}
