// Recognition with a rules grammar, as a rules session hears it (turn-pipeline.ts, then the check
// of check-decode.ts): how often out-of-domain speech fires an intent, how often in-domain phrases
// fire theirs, the open-domain WER against the open language model alone, and what the check costs.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { TurnPipeline } from '../../src/listen/pocketsphinx/turn-pipeline.js';
import { checkReading } from '../../src/listen/pocketsphinx/check-decode.js';
import { DEFAULT_TURN_SETTINGS } from '../../src/listen/vad/turn-settings.js';
import { RulesMatcher } from '../../src/think/rules/rules-matcher.js';
import { parseRules } from '../../src/think/rules/rules-schema.js';
import type { Rules } from '../../src/think/rules/rules-schema.js';
import { compileRulesGrammar } from '../../src/think/rules/rules-grammar.js';
import { CARD_RULES, JFK_TRANSCRIPT, cardsClips, fixturePath, librivoxClips, readPcm16 } from '../../test/support/fixtures.js';
import { IN_DOMAIN, OUT_OF_DOMAIN, fliteSpoken, spoken } from '../../test/support/spoken-phrases.js';
import { wordErrors } from '../../test/support/wer.js';
import { realSpeechConditions } from './real-speech-set.js';

const FRAME = 320;
/** The synthetic voices: espeak-ng at 16 kHz and on a mu-law phone line, and two flite voices. */
const VOICES: ReadonlyArray<{ name: string; say: (text: string) => Int16Array }> = [
  { name: 'espeak 16 kHz', say: (text) => spoken(text, 'wideband') },
  { name: 'espeak 8 kHz mu-law', say: (text) => spoken(text, 'phone') },
  { name: 'flite slt', say: (text) => fliteSpoken(text, 'slt') },
  { name: 'flite awb', say: (text) => fliteSpoken(text, 'awb') },
];

const checks = { count: 0, openLm: 0, phoneLoopMs: 0, openLmMs: 0 };

/** What a new session of this thread hears in `audio` (padded with silence), all turns joined. */
function hear(audio: Int16Array, grammar: string | undefined): string {
  const padded = new Int16Array(audio.length + 8000 + 24000);
  padded.set(audio, 8000);
  return hearSession(padded, grammar);
}

/** What a new session of this thread hears in `audio` as it is, all turns joined. */
function hearSession(audio: Int16Array, grammar: string | undefined): string {
  const texts: string[] = [];
  const payload = { turn: DEFAULT_TURN_SETTINGS, interimIntervalMs: 500, ...(grammar === undefined ? {} : { grammar }) };
  const pipeline = new TurnPipeline(payload, (event) => {
    if (event.t !== 'endOfTurn') return;
    if (event.check === undefined) {
      texts.push(event.text);
      return;
    }
    const start = performance.now();
    const checked = checkReading(event.check);
    const ms = performance.now() - start;
    checks.count++;
    if (checked.openLm) {
      checks.openLm++;
      checks.openLmMs += ms;
    } else checks.phoneLoopMs += ms;
    texts.push(checked.text);
  });
  for (let i = 0; i < audio.length; i += FRAME) pipeline.write(audio.subarray(i, i + FRAME));
  pipeline.close();
  return texts.join(' ');
}

export interface RulesRecognition {
  rows: Array<Record<string, string | number>>;
  falseIntentRate: number;
  inDomainRate: number;
  openWer: { lm: number; grammar: number };
}

const percent = (n: number, of: number): number => (100 * n) / Math.max(1, of);

function fires(rules: Rules, audio: readonly Int16Array[]): number {
  const grammar = compileRulesGrammar(rules);
  const matcher = new RulesMatcher(rules);
  return audio.filter((a) => matcher.match(hear(a, grammar)) !== undefined).length;
}

export async function measureRulesRecognition(): Promise<RulesRecognition> {
  const rules = parseRules(JSON.parse(readFileSync('config/rules/default.json', 'utf8')));
  const grammar = compileRulesGrammar(rules);
  const matcher = new RulesMatcher(rules);
  const real = [...librivoxClips(), { id: 'jfk', path: await fixturePath('jfk'), transcript: JFK_TRANSCRIPT }];
  const realAudio = real.map((c) => readPcm16(c.path).samples);

  const synthetic = VOICES.flatMap((voice) => OUT_OF_DOMAIN.map((text) => voice.say(text)));
  const fired = fires(rules, [...realAudio, ...synthetic]);
  const outOfDomain = realAudio.length + synthetic.length;

  const understood = (grammarOrLm: string | undefined, say: (text: string) => Int16Array): number =>
    IN_DOMAIN.filter((p) => matcher.match(hear(say(p.text), grammarOrLm))?.intent.name === p.intent).length;
  const byVoice = VOICES.map((voice) => ({ voice: voice.name, understood: understood(grammar, voice.say) }));
  const inDomain = IN_DOMAIN.length * VOICES.length;
  const understoodAll = byVoice.reduce((n, v) => n + v.understood, 0);
  const understoodLm = VOICES.reduce((n, voice) => n + understood(undefined, voice.say), 0);

  // Real in-domain speech: the cards clips against the rules whose patterns they were recorded for.
  const cardRules = parseRules(CARD_RULES);
  const cardMatcher = new RulesMatcher(cardRules);
  const cardGrammar = compileRulesGrammar(cardRules);
  const cards = cardsClips();
  const cardsUnderstood = cards.filter((c) => cardMatcher.match(hear(readPcm16(c.path).samples, cardGrammar)) !== undefined).length;
  const cardsOutOfDomain = [...realAudio, ...VOICES.slice(0, 1).flatMap((voice) => OUT_OF_DOMAIN.map((text) => voice.say(text)))];
  const cardsFired = fires(cardRules, cardsOutOfDomain);

  const wer = (withGrammar: string | undefined): number => {
    let errors = 0;
    let words = 0;
    for (const [n, clip] of real.entries()) {
      const counted = wordErrors(clip.transcript, hear(realAudio[n] ?? new Int16Array(0), withGrammar));
      errors += counted.errors;
      words += counted.words;
    }
    return percent(errors, words);
  };
  const openWer = { lm: wer(undefined), grammar: wer(grammar) };
  // The same two WERs over every real recording in several conditions, condition by condition.
  const larger = await realSpeechConditions();
  const largerRows = [undefined, grammar].flatMap((withGrammar) => {
    let errors = 0;
    let words = 0;
    const byCondition = larger.conditions.map((condition) => {
      let conditionErrors = 0;
      let conditionWords = 0;
      for (const session of condition.sessions) {
        const counted = wordErrors(session.transcript, hearSession(session.audio, withGrammar));
        conditionErrors += counted.errors;
        conditionWords += counted.words;
      }
      errors += conditionErrors;
      words += conditionWords;
      return `${condition.name} ${percent(conditionErrors, conditionWords).toFixed(1)}`;
    });
    const path = withGrammar === undefined ? 'open LM only' : 'rules grammar + check';
    return [{ measure: `open-domain WER, all ${larger.recordings} real recordings × ${larger.conditions.length} conditions, ${path} (${byCondition.join(' / ')})`, '%': percent(errors, words), n: words }];
  });
  const falseIntentRate = percent(fired, outOfDomain);
  const inDomainRate = percent(understoodAll, inDomain);
  const byPhoneLoop = checks.count - checks.openLm;
  return {
    falseIntentRate,
    inDomainRate,
    openWer,
    rows: [
      { measure: `false intents, out of domain (LibriVox ×5 + JFK + ${OUT_OF_DOMAIN.length} sentences × ${VOICES.length} voices)`, '%': falseIntentRate, n: outOfDomain },
      { measure: `intent understood, in domain (${IN_DOMAIN.length} phrases × ${VOICES.length} voices)`, '%': inDomainRate, n: inDomain },
      ...byVoice.map((v) => ({ measure: `  of which ${v.voice}`, '%': percent(v.understood, IN_DOMAIN.length), n: IN_DOMAIN.length })),
      { measure: 'intent understood, in domain, open LM only', '%': percent(understoodLm, inDomain), n: inDomain },
      { measure: 'cards rules, real speech in domain (cards ×5): intent understood', '%': percent(cardsUnderstood, cards.length), n: cards.length },
      { measure: 'cards rules, false intents (LibriVox ×5 + JFK + espeak sentences)', '%': percent(cardsFired, cardsOutOfDomain.length), n: cardsOutOfDomain.length },
      { measure: 'open-domain WER (LibriVox + JFK), open LM only', '%': openWer.lm, n: real.length },
      { measure: 'open-domain WER (LibriVox + JFK), rules grammar + check', '%': openWer.grammar, n: real.length },
      ...largerRows,
      { measure: 'grammar turns settled by the phone loop (no open-LM decode)', '%': percent(byPhoneLoop, checks.count), n: checks.count },
      { measure: 'check CPU per turn settled by the phone loop (ms)', '%': byPhoneLoop === 0 ? 0 : checks.phoneLoopMs / byPhoneLoop, n: byPhoneLoop },
      { measure: 'check CPU per turn that needed the open LM (ms)', '%': checks.openLm === 0 ? 0 : checks.openLmMs / checks.openLm, n: checks.openLm },
    ],
  };
}
