// Recognition with the default rules' grammar, as a rules session hears it (turn-pipeline.ts):
// how often out-of-domain speech fires an intent, how often in-domain phrases fire theirs, and
// the open-domain WER against the open language model alone.
import { readFileSync } from 'node:fs';
import { TurnPipeline } from '../../src/listen/pocketsphinx/turn-pipeline.js';
import { checkedText } from '../../src/listen/pocketsphinx/check-decode.js';
import { DEFAULT_TURN_SETTINGS } from '../../src/listen/vad/turn-settings.js';
import { RulesMatcher } from '../../src/think/rules/rules-matcher.js';
import { parseRules } from '../../src/think/rules/rules-schema.js';
import { compileRulesGrammar } from '../../src/think/rules/rules-grammar.js';
import { JFK_TRANSCRIPT, fixturePath, librivoxClips, readPcm16 } from '../../test/support/fixtures.js';
import { IN_DOMAIN, OUT_OF_DOMAIN, spoken } from '../../test/support/spoken-phrases.js';
import type { Line } from '../../test/support/spoken-phrases.js';
import { wordErrors } from '../../test/support/wer.js';

const FRAME = 320;
const LINES: readonly Line[] = ['wideband', 'phone'];

/** What a new session of this thread hears in `audio` (padded with silence), all turns joined. */
function hear(audio: Int16Array, grammar: string | undefined): string {
  const texts: string[] = [];
  const payload = { turn: DEFAULT_TURN_SETTINGS, interimIntervalMs: 500, ...(grammar === undefined ? {} : { grammar }) };
  const pipeline = new TurnPipeline(payload, (event) => {
    if (event.t === 'endOfTurn') texts.push(event.check === undefined ? event.text : checkedText({ grammarText: event.text, audio: event.check }));
  });
  const padded = new Int16Array(audio.length + 8000 + 24000);
  padded.set(audio, 8000);
  for (let i = 0; i < padded.length; i += FRAME) pipeline.write(padded.subarray(i, i + FRAME));
  pipeline.close();
  return texts.join(' ');
}

export interface RulesRecognition {
  rows: Array<Record<string, string | number>>;
  falseIntentRate: number;
  inDomainRate: number;
  openWer: { lm: number; grammar: number };
}

export async function measureRulesRecognition(): Promise<RulesRecognition> {
  const rules = parseRules(JSON.parse(readFileSync('config/rules/default.json', 'utf8')));
  const grammar = compileRulesGrammar(rules);
  const matcher = new RulesMatcher(rules);
  const real = [...librivoxClips(), { id: 'jfk', path: await fixturePath('jfk'), transcript: JFK_TRANSCRIPT }];

  const outOfDomain = [
    ...real.map((c) => readPcm16(c.path).samples),
    ...LINES.flatMap((line) => OUT_OF_DOMAIN.map((text) => spoken(text, line))),
  ];
  let fired = 0;
  for (const audio of outOfDomain) if (matcher.match(hear(audio, grammar)) !== undefined) fired++;

  const inDomain = LINES.flatMap((line) => IN_DOMAIN.map((p) => ({ ...p, audio: spoken(p.text, line) })));
  let understood = 0;
  let understoodLm = 0;
  for (const phrase of inDomain) {
    if (matcher.match(hear(phrase.audio, grammar))?.intent.name === phrase.intent) understood++;
    if (matcher.match(hear(phrase.audio, undefined))?.intent.name === phrase.intent) understoodLm++;
  }

  const wer = (withGrammar: string | undefined): number => {
    let errors = 0;
    let words = 0;
    for (const clip of real) {
      const counted = wordErrors(clip.transcript, hear(readPcm16(clip.path).samples, withGrammar));
      errors += counted.errors;
      words += counted.words;
    }
    return (100 * errors) / words;
  };
  const openWer = { lm: wer(undefined), grammar: wer(grammar) };
  const falseIntentRate = (100 * fired) / outOfDomain.length;
  const inDomainRate = (100 * understood) / inDomain.length;
  return {
    falseIntentRate,
    inDomainRate,
    openWer,
    rows: [
      { measure: `false intents, out of domain (LibriVox ×5 + JFK + espeak ×${OUT_OF_DOMAIN.length} ×2 lines)`, '%': falseIntentRate, n: outOfDomain.length },
      { measure: `intent understood, in domain (espeak ×${IN_DOMAIN.length}, 16 kHz + 8 kHz mu-law)`, '%': inDomainRate, n: inDomain.length },
      { measure: 'intent understood, in domain, open LM only', '%': (100 * understoodLm) / inDomain.length, n: inDomain.length },
      { measure: 'open-domain WER (LibriVox + JFK), open LM only', '%': openWer.lm, n: real.length },
      { measure: 'open-domain WER (LibriVox + JFK), rules grammar + LM check', '%': openWer.grammar, n: real.length },
    ],
  };
}
