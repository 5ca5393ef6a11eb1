import type { FunctionCallRecord } from '../protocol/agent-config.js';
import type { LatencyFigures, ServerEvent } from '../protocol/server-events.js';

/** Times are milliseconds from the start of the session, as on the recording's timeline. */
export interface UserTurn {
  role: 'user';
  atMs: number;
  text: string;
}

export interface AgentTurn {
  role: 'agent';
  atMs: number;
  /** The sentences the agent set out to say, as they were sent to the voice. */
  said: string[];
  /** What the listener heard of them (the playout clock's or the phone line's account). */
  heard: string[];
  startedSpeakingMs?: number;
  audioDoneMs?: number;
  /** Completed function calls, with their results. */
  functionCalls: FunctionCallRecord[];
  latency?: LatencyFigures;
}

export interface TranscriptNote {
  atMs: number;
  type: 'UserStartedSpeaking' | 'Warning' | 'Error' | 'dtmf';
  code?: string;
  description?: string;
  digit?: string;
}

export interface Transcript {
  session: string;
  /** The path the session came in on (`/v1/agent/converse`, `/twilio` ...). */
  path: string;
  /** Wall-clock time of the recording's sample 0, ISO 8601 and epoch milliseconds. */
  startedAt: string;
  startedAtEpochMs: number;
  endedAt: string | null;
  durationMs: number | null;
  audio: { file: string; sampleRate: number; channels: ['user', 'agent'] };
  /** Facts of the call a phone bridge knows (carrier, call and stream ids, the agent). */
  call?: Record<string, string>;
  turns: (UserTurn | AgentTurn)[];
  notes: TranscriptNote[];
}

/**
 * Builds a session's transcript from the events the session sends its client: one turn per
 * user utterance and per agent reply, each with its time; a reply carries what was said, what
 * was heard, its function calls and its latency.
 */
export class TranscriptBuilder {
  readonly transcript: Transcript;
  private agent: AgentTurn | undefined;

  constructor(head: Omit<Transcript, 'turns' | 'notes' | 'endedAt' | 'durationMs'>) {
    this.transcript = { ...head, endedAt: null, durationMs: null, turns: [], notes: [] };
  }

  event(event: ServerEvent, atMs: number): void {
    switch (event.type) {
      case 'ConversationText':
        if (event.role === 'user') {
          this.agent = undefined;
          this.transcript.turns.push({ role: 'user', atMs, text: event.content });
        } else {
          this.agentTurn(atMs).said.push(event.content);
        }
        return;
      case 'History':
        if (event.item.kind === 'functions') this.agentTurn(atMs).functionCalls.push(...event.item.calls);
        else if (event.item.role === 'assistant') this.agentTurn(atMs).heard.push(event.item.content);
        return;
      case 'AgentStartedSpeaking':
        this.agentTurn(atMs).startedSpeakingMs = atMs;
        return;
      case 'AgentAudioDone':
        this.agentTurn(atMs).audioDoneMs = atMs;
        return;
      case 'LatencyReport':
        // The reply is over: whatever the agent says next is another turn.
        this.agentTurn(atMs).latency = event.latency;
        this.agent = undefined;
        return;
      case 'UserStartedSpeaking':
        this.transcript.notes.push({ atMs, type: event.type });
        return;
      case 'Warning':
      case 'Error':
        this.transcript.notes.push({ atMs, type: event.type, code: event.code, description: event.description });
        return;
      default:
        return;
    }
  }

  dtmf(digit: string, atMs: number): void {
    this.transcript.notes.push({ atMs, type: 'dtmf', digit });
  }

  end(endedAtEpochMs: number, durationMs: number): void {
    this.transcript.endedAt = new Date(endedAtEpochMs).toISOString();
    this.transcript.durationMs = Math.round(durationMs);
  }

  private agentTurn(atMs: number): AgentTurn {
    if (this.agent === undefined) {
      this.agent = { role: 'agent', atMs, said: [], heard: [], functionCalls: [] };
      this.transcript.turns.push(this.agent);
    }
    return this.agent;
  }
}
