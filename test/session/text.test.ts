import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../src/session/conversation.js';
import { SentenceSplitter } from '../../src/session/sentence-splitter.js';
import { heardPart } from '../../src/session/utterance.js';

function split(deltas: string[]): string[] {
  const splitter = new SentenceSplitter();
  return [...deltas.flatMap((d) => splitter.push(d)), ...splitter.flush()];
}

describe('SentenceSplitter', () => {
  it('emits each sentence as soon as it is complete, across token boundaries', () => {
    const splitter = new SentenceSplitter();
    assert.deepEqual(splitter.push('Hello the'), []);
    assert.deepEqual(splitter.push('re! How a'), ['Hello there!']);
    assert.deepEqual(splitter.push('re you? '), ['How are you?']);
    assert.deepEqual(splitter.flush(), []);
  });

  it('does not cut at abbreviations, initials or decimals', () => {
    assert.deepEqual(split(['Mr. Smith paid 3.5 dollars to J. R. Tolkien, e.g. yesterday. Done.']), [
      'Mr. Smith paid 3.5 dollars to J. R. Tolkien, e.g. yesterday.',
      'Done.',
    ]);
  });

  it('cuts at newlines and keeps closing quotes with their sentence', () => {
    assert.deepEqual(split(['He said "stop." Then\nhe left']), ['He said "stop."', 'Then', 'he left']);
  });

  it('cuts a very long run without an end mark at a clause boundary', () => {
    const long = `${'word '.repeat(30)}and then, ${'more '.repeat(30)}`;
    const [first] = split([long]);
    assert.ok(first !== undefined && first.length <= 220 && first.endsWith(','), first);
  });
});

describe('heardPart', () => {
  it('keeps only the whole words heard, in proportion to the audio played', () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    assert.equal(heardPart(text, 0), '');
    assert.equal(heardPart(text, 0.5), 'The quick brown fox');
    assert.equal(heardPart(text, 0.1), 'The');
    assert.equal(heardPart(text, 1), text);
  });
});

describe('Conversation', () => {
  it('appends prompt updates and keeps the system prompt first', () => {
    const conversation = new Conversation('Be brief.');
    conversation.appendPrompt('Be kind.');
    conversation.add({ kind: 'text', role: 'user', content: 'hi' });
    assert.deepEqual(conversation.toMessages(), [
      { role: 'system', content: 'Be brief.\nBe kind.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('drops the oldest history past context_length, never a tool result without its call', () => {
    const conversation = new Conversation('P', 40);
    conversation.add({ kind: 'text', role: 'user', content: 'an old message that is long' });
    conversation.add({ kind: 'functions', calls: [{ id: '1', name: 'f', clientSide: true, arguments: '{}', response: 'result' }] });
    conversation.add({ kind: 'text', role: 'user', content: 'newest' });
    assert.deepEqual(conversation.toMessages().map((m) => m.role), ['system', 'assistant', 'tool', 'user']);
    const tight = new Conversation('P', 10);
    tight.add({ kind: 'functions', calls: [{ id: '1', name: 'f', clientSide: true, arguments: '{"a":1}', response: 'result' }] });
    tight.add({ kind: 'text', role: 'user', content: 'newest' });
    // The call and its result do not fit together: the result is dropped with its call.
    assert.deepEqual(tight.toMessages().map((m) => m.role), ['system', 'user']);
  });

  it('keeps at most its character limit, dropping the oldest items and never the newest', () => {
    const conversation = new Conversation('P', 'max', 20);
    conversation.add({ kind: 'text', role: 'user', content: 'first turn' });
    conversation.add({ kind: 'functions', calls: [{ id: '1', name: 'f', clientSide: true, arguments: '{}', response: 'ok' }] });
    conversation.add({ kind: 'text', role: 'assistant', content: 'third one' });
    // 10 + 6 + 9 > 20: the first turn goes, the call (6) and the reply (9) stay.
    assert.deepEqual(conversation.snapshot().map((i) => i.kind), ['functions', 'text']);
    assert.deepEqual(conversation.toMessages().map((m) => m.role), ['system', 'assistant', 'tool', 'assistant']);
    conversation.add({ kind: 'text', role: 'user', content: 'a message longer than the whole limit' });
    assert.deepEqual(conversation.snapshot(), [{ kind: 'text', role: 'user', content: 'a message longer than the whole limit' }]);
  });

  it('ignores empty text items', () => {
    const conversation = new Conversation('');
    conversation.add({ kind: 'text', role: 'assistant', content: '  ' });
    assert.deepEqual(conversation.toMessages(), []);
  });
});
