/**
 * The `rules` think provider: a deterministic intent engine for agents without an LLM (see
 * rules-schema.ts for the file format). Rules come from `agent.think.provider.rules` (an inline
 * object), else the JSON file named by env PARLEY_RULES_FILE, else config/rules/default.json.
 *
 * Function calls: a matched intent with `call` emits a tool_call (when the session offers that
 * function); the next request, ending with the tool result, is answered with the intent's
 * response filled from the result. The intent is found again from the last user message.
 *
 * The engine follows no prompt; a session that gives it one is told so once per provider
 * (docs/protocol-decisions.md#the-rules-engine-ignores-prompts).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProviderError } from '../../core/errors.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { ProviderContext } from '../../core/provider-context.js';
import type { ThinkSettings } from '../../protocol/agent-config.js';
import type { WarningNotice } from '../../protocol/errors.js';
import type { ChatMessage, ThinkEvent, ThinkFactory, ThinkProvider, ThinkRequest } from '../types.js';
import { RulesMatcher } from './rules-matcher.js';
import { parseRules } from './rules-schema.js';
import type { Intent, Rules } from './rules-schema.js';
import { compileRulesGrammar } from './rules-grammar.js';
import { fillTemplate } from './templates.js';
import type { TemplateValues } from './templates.js';
import { computeSpoken } from './numbers.js';

const PROVIDER = 'rules';

/** Same relative place from src/think/rules and dist/think/rules. */
export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../../../config/rules/default.json', import.meta.url));

export const createRulesThink: ThinkFactory = (settings, context) => {
  const provider = new RulesThinkProvider(loadRules(settings, context), undefined, (notice) => context.warn(notice));
  provider.noticePrompt(settings.prompt);
  return provider;
};

/** Said when a session gives the rules engine a prompt it will not follow. */
export const PROMPT_IGNORED: WarningNotice = {
  code: 'PROMPT_IGNORED',
  description:
    'The rules engine answers this session and follows no prompt: the prompt is not used. ' +
    'Give it rules (agent.think.provider.rules), or give it an LLM: `parley models pull` for the local one, ' +
    'an OpenAI-compatible server such as Ollama (agent.think.endpoint.url, allowed by the server\'s PARLEY_ALLOWED_HOSTS, or its OPENAI_BASE_URL), ' +
    'or a provider key.',
};

/**
 * The JSGF grammar the local listen provider should use for a session whose think provider is
 * `rules`; undefined when the rules set `"grammar": false`.
 */
export function rulesGrammarFor(settings: ThinkSettings, context: ProviderContext): string | undefined {
  const rules = loadRules(settings, context);
  return rules.grammar ? compileRulesGrammar(rules) : undefined;
}

const fileCache = new Map<string, Rules>();

/** Inline rules are a client mistake (INVALID_SETTINGS); a broken server file is a ProviderError. */
export function loadRules(settings: ThinkSettings, context: ProviderContext): Rules {
  const inline = settings.provider['rules'];
  if (inline !== undefined) {
    try {
      return parseRules(inline);
    } catch (err) {
      throw new ProtocolError('INVALID_SETTINGS', `agent.think.provider.rules: ${(err as Error).message}`);
    }
  }
  const path = context.env['PARLEY_RULES_FILE'] || DEFAULT_RULES_FILE;
  const cached = fileCache.get(path);
  if (cached !== undefined) return cached;
  try {
    const rules = parseRules(JSON.parse(readFileSync(path, 'utf8')));
    fileCache.set(path, rules);
    return rules;
  } catch (err) {
    throw new ProviderError('think', PROVIDER, `cannot load the rules file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export class RulesThinkProvider implements ThinkProvider {
  readonly label = PROVIDER;
  private readonly matcher: RulesMatcher;
  private promptNoticed = false;

  constructor(
    private readonly rules: Rules,
    private readonly now: () => Date = () => new Date(),
    private readonly warn: (notice: WarningNotice) => void = () => undefined,
  ) {
    this.matcher = new RulesMatcher(rules);
  }

  /** Warns PROMPT_IGNORED the first time this provider is given a prompt that is not empty. */
  noticePrompt(prompt: string): void {
    if (this.promptNoticed || prompt.trim() === '') return;
    this.promptNoticed = true;
    this.warn(PROMPT_IGNORED);
  }

  // The seam is an async stream; the rules answer at once, so nothing here awaits.
  // eslint-disable-next-line @typescript-eslint/require-await
  async *stream(request: ThinkRequest): AsyncIterable<ThinkEvent> {
    // An UpdatePrompt reaches the provider only as the system message of its next request.
    const first = request.messages[0];
    if (first?.role === 'system') this.noticePrompt(first.content);
    const event = this.reply(request);
    if (!request.signal.aborted) yield event;
  }

  private reply(request: ThinkRequest): ThinkEvent {
    const { messages, tools } = request;
    const turn = messages.filter((m) => m.role === 'user').length;
    const lastUser = [...messages].reverse().find((m): m is Extract<ChatMessage, { role: 'user' }> => m.role === 'user');
    const match = lastUser === undefined ? undefined : this.matcher.match(lastUser.content);
    const values: TemplateValues = { slots: match?.slots ?? {}, now: this.now() };
    const lastReply = lastAgentReply(messages);
    if (lastReply !== undefined) values.lastReply = lastReply;
    const say = (templates: readonly string[], result?: string): ThinkEvent => ({
      type: 'text',
      text: fillTemplate(pick(templates, turn), result === undefined ? values : { ...values, result }),
    });
    if (match === undefined) return say(this.rules.fallback);
    const { intent, slots } = match;
    const unavailable = (): ThinkEvent => say(intent.unavailable ?? this.rules.fallback);
    if (intent.compute !== undefined) {
      const answer = computeSpoken(fillTemplate(intent.compute, values));
      if (answer === undefined) return unavailable();
      values.answer = answer;
    }
    if (lastReply === undefined && pick(intent.responses, turn).includes('{last_reply}')) return unavailable();
    const last = messages.at(-1);
    if (intent.call === undefined) return say(intent.responses);
    if (last?.role === 'tool' && last.name === intent.call.function) return say(intent.responses, last.content);
    if (!tools.some((tool) => tool.name === intent.call?.function)) return unavailable();
    return {
      type: 'tool_call',
      call: {
        id: `rules_${randomUUID()}`,
        name: intent.call.function,
        arguments: JSON.stringify(fillArguments(intent, slots, this.now())),
      },
    };
  }
}

/** String values of `call.arguments` are templates; other JSON values pass through. */
function fillArguments(intent: Intent, slots: Record<string, string>, now: Date): Record<string, unknown> {
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') return fillTemplate(value, { slots, now });
    if (Array.isArray(value)) return value.map(fill);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    }
    return value;
  };
  return fill(intent.call?.arguments ?? {}) as Record<string, unknown>;
}

/** The agent's text between the user's last two turns (a reply may be several messages), if any. */
function lastAgentReply(messages: readonly ChatMessage[]): string | undefined {
  let end = messages.length - 1;
  while (end >= 0 && messages[end]?.role !== 'user') end--;
  const said: string[] = [];
  for (let i = end - 1; i >= 0; i--) {
    const message = messages[i];
    if (message === undefined || message.role === 'user') break;
    if (message.role === 'assistant' && message.content.trim() !== '') said.unshift(message.content.trim());
  }
  return said.length === 0 ? undefined : said.join(' ');
}

function pick(templates: readonly string[], turn: number): string {
  return templates[turn % templates.length] ?? '';
}
