// Who has the floor (docs/turn-taking.md#agent-state). The session changes its state in one
// place (Session.enter), and only along these transitions.

/**
 * `idle`: nobody has the floor. `user_speaking`: the user has it, from the onset of a turn (or of
 * an interruption) until the turn is answered or found empty, the wait for an unfinished turn's
 * rest included. `thinking`: a reply is in flight and none of its audio has gone out yet.
 * `speaking`: its audio has started; it stays so through later tool rounds until the reply ends.
 */
export type AgentStateName = 'idle' | 'user_speaking' | 'thinking' | 'speaking';

const TRANSITIONS: Readonly<Record<AgentStateName, readonly AgentStateName[]>> = {
  // An onset, or a reply started by the client (greeting, injection).
  idle: ['user_speaking', 'thinking'],
  // The turn is answered, or it had no words.
  user_speaking: ['thinking', 'idle'],
  // First audio; the reply ended without audio; the user interrupted it.
  thinking: ['speaking', 'idle', 'user_speaking'],
  // The reply ended; the user interrupted it; another reply replaced it.
  speaking: ['idle', 'user_speaking', 'thinking'],
};

export function allowed(from: AgentStateName, to: AgentStateName): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}
