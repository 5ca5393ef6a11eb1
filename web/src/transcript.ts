export type RowKind = 'user' | 'assistant' | 'notice' | 'error';

const LABELS: Record<RowKind, string> = {
  user: 'You',
  assistant: 'Agent',
  notice: 'Note',
  error: 'Error',
};

/** One function call shown inside the agent's row. */
export interface CallView {
  id: string;
  name: string;
  arguments: string;
  where: 'client' | 'server';
  result?: string;
}

/** One row of the conversation, as the test hooks and the DOM both show it. */
export interface Row {
  kind: RowKind;
  /** For a live row, the words heard so far (interim transcripts), else the final text. */
  text: string;
  at: string;
  /** `at` as an ISO date for the `<time>` element. */
  iso: string;
  calls: CallView[];
  /** A user row still being spoken: its final text comes with the final transcript. */
  live: boolean;
}

const time = (date: Date): string => date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/**
 * The conversation list: one row per turn. The agent's sentences join into its row, function
 * calls and results go inline, and the user's row appears (marked live) when they start speaking.
 */
export class Transcript {
  readonly rows: Row[] = [];
  private readonly nodes = new Map<Row, HTMLLIElement>();

  constructor(private readonly list: HTMLOListElement) {}

  private last(): Row | undefined {
    return this.rows.at(-1);
  }

  private add(kind: RowKind, text: string, live = false): Row {
    const now = new Date();
    const row: Row = { kind, text, at: time(now), iso: now.toISOString(), calls: [], live };
    this.rows.push(row);
    const item = document.createElement('li');
    this.nodes.set(row, item);
    this.list.append(item);
    this.render(row);
    return row;
  }

  private render(row: Row): void {
    const item = this.nodes.get(row);
    if (!item) return;
    item.className = row.live ? `${row.kind} live` : row.kind;
    const head = document.createElement('div');
    head.className = 'head';
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = LABELS[row.kind];
    const at = document.createElement('time');
    at.dateTime = row.iso;
    at.textContent = row.at;
    head.append(who, at);
    const parts: HTMLElement[] = [head];
    for (const call of row.calls) {
      const node = document.createElement('div');
      node.className = 'call';
      node.textContent = `${call.name}(${call.arguments})${call.where === 'server' ? ' on the server' : ''}`;
      if (call.result !== undefined) {
        const result = document.createElement('span');
        result.className = 'result';
        result.textContent = ` → ${call.result}`;
        node.append(result);
      }
      parts.push(node);
    }
    const body = document.createElement('p');
    body.className = 'text';
    body.textContent = row.live ? (row.text === '' ? 'speaking…' : `${row.text} …`) : row.text;
    if (row.text !== '' || row.live) parts.push(body);
    item.replaceChildren(...parts);
    item.scrollIntoView({ block: 'nearest' });
  }

  /** The user started speaking: a live row, reused if one is open. */
  userSpeaking(): Row {
    return this.rows.findLast((row) => row.live) ?? this.add('user', '', true);
  }

  /** The words heard so far of the user's turn, in its live row. */
  interim(text: string): void {
    const row = this.userSpeaking();
    row.text = text;
    this.render(row);
  }

  /** The final transcript of the user's turn (or a typed message the server echoed). */
  user(text: string): void {
    const live = this.rows.findLast((row) => row.live);
    if (live) {
      live.text = text;
      live.live = false;
      this.render(live);
    } else {
      this.add('user', text);
    }
  }

  /** The user's turn ended without words: its live row goes. */
  dropLive(): void {
    const index = this.rows.findLastIndex((row) => row.live);
    const row = this.rows[index];
    if (!row) return;
    this.rows.splice(index, 1);
    this.nodes.get(row)?.remove();
    this.nodes.delete(row);
  }

  /** The agent row of the reply in progress; a user turn or a note ends it. */
  private agentRow(): Row {
    const last = this.last();
    return last?.kind === 'assistant' ? last : this.add('assistant', '');
  }

  agent(sentence: string): void {
    const row = this.agentRow();
    row.text = row.text === '' ? sentence : `${row.text} ${sentence}`;
    this.render(row);
  }

  call(call: CallView): void {
    const row = this.agentRow();
    row.calls.push(call);
    this.render(row);
  }

  result(id: string, name: string, content: string): void {
    const row = this.rows.findLast((r) => r.calls.some((c) => c.id === id));
    const call = row?.calls.find((c) => c.id === id);
    if (row && call) {
      call.result = content;
      this.render(row);
    } else {
      this.call({ id, name, arguments: '…', where: 'server', result: content });
    }
  }

  note(kind: 'notice' | 'error', text: string): void {
    this.add(kind, text);
  }
}
