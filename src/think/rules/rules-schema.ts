/**
 * The rules file of the `rules` think provider (JSON), e.g. config/rules/default.json:
 *
 * {
 *   "fallback": ["Sorry, I did not get that."],            // said when no intent matches
 *   "slots": { "city": ["paris", "new york"],             // words a {slot} may take
 *              "left": "number", "right": "number",        // "number": 0 to 100, words or digits
 *              "operator": ["plus", "minus", "times", "multiplied by", "divided by"] },
 *   "grammar": true,                                        // let the local STT use the JSGF grammar
 *   "intents": [
 *     { "name": "greeting", "patterns": ["hello", "good morning"], "responses": ["Hello!"] },
 *     { "name": "weather",
 *       "patterns": ["weather in {city}"],                  // matched anywhere in the user's words
 *       "call": { "function": "get_weather", "arguments": { "location": "{city}" } },
 *       "responses": ["In {city} it is {result.temperature} degrees."],   // after the result
 *       "unavailable": ["I cannot check the weather here."] },           // function not offered
 *     { "name": "sum", "patterns": ["what is {left} {operator} {right}"],
 *       "compute": "{left} {operator} {right}",             // filled, then worked out
 *       "responses": ["{left} {operator} {right} is {answer}."] },
 *     { "name": "repeat", "patterns": ["say that again"], "responses": ["{last_reply}"] }
 *   ]
 * }
 *
 * Templates fill {slot}, {time}, {date}, {day}, {last_reply} (what the agent said before this
 * turn), {answer} (the intent's `compute`: two numbers with plus, minus, times, multiplied by or
 * divided by), and after a function call {result} (the result as text) or {result.field.sub} (a
 * field of a JSON result). Responses rotate turn by turn. An intent says `unavailable` (else the
 * fallback) when it cannot answer here: its function is not offered, `compute` has no result
 * (division by zero), or {last_reply} is asked for before the agent said anything.
 */
import { z } from 'zod';
import { numberWords } from './numbers.js';

const templates = z.array(z.string().min(1)).min(1);

const intentSchema = z.object({
  name: z.string().min(1),
  patterns: z.array(z.string().min(1)).min(1),
  responses: templates,
  call: z
    .object({
      function: z.string().min(1),
      arguments: z.record(z.string(), z.unknown()).default({}),
    })
    .optional(),
  compute: z.string().min(1).optional(),
  unavailable: templates.optional(),
});

export const rulesSchema = z.object({
  fallback: templates,
  slots: z
    .record(z.string(), z.union([z.array(z.string().min(1)).min(1), z.literal('number').transform(numberWords)]))
    .default({}),
  grammar: z.boolean().default(true),
  intents: z.array(intentSchema).min(1),
});

export type Rules = z.infer<typeof rulesSchema>;
export type Intent = Rules['intents'][number];

/** Parses and checks a rules object; the error lists every problem with its path. */
export function parseRules(value: unknown): Rules {
  const result = rulesSchema.safeParse(value);
  if (!result.success) {
    throw new Error(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  for (const intent of result.data.intents) {
    for (const pattern of intent.patterns) {
      if (pattern.includes('{') && !/^[^{}]*(\{[a-z_][a-z0-9_]*\}[^{}]*)*$/i.test(pattern)) {
        throw new Error(`intent ${intent.name}: malformed pattern "${pattern}"`);
      }
    }
  }
  return result.data;
}
