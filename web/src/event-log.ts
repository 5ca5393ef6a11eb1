export type Direction = 'in' | 'out';

/** One logged event; binary frames in a row are one entry that counts them. */
export interface LogEntry {
  at: string;
  dir: Direction;
  type: string;
  /** The JSON as sent or received; for audio, a summary. */
  json: string;
  frames?: number;
  bytes?: number;
}

/** Entries kept; older ones drop off so a long session does not grow the page without end. */
const LIMIT = 1000;

const stamp = (): string => {
  const now = new Date();
  return `${now.toLocaleTimeString([], { hour12: false })}.${String(now.getMilliseconds()).padStart(3, '0')}`;
};

/** The event log panel: every event both ways, filterable by type, copyable as JSON lines. */
export class EventLog {
  readonly entries: LogEntry[] = [];
  private readonly nodes = new Map<LogEntry, HTMLLIElement>();
  private filter = '';
  /** The audio entry of each direction that frames are counted into, until the next JSON event. */
  private readonly runs: Partial<Record<Direction, LogEntry>> = {};

  constructor(
    private readonly list: HTMLOListElement,
    private readonly count: HTMLElement,
  ) {}

  json(dir: Direction, message: object): void {
    const type = (message as { type?: unknown }).type;
    delete this.runs.in;
    delete this.runs.out;
    this.push({ at: stamp(), dir, type: typeof type === 'string' ? type : '(no type)', json: JSON.stringify(message) });
  }

  /**
   * A binary frame: counted into this direction's audio entry since the last JSON event, so the
   * microphone's frames and the agent's, interleaved, stay two entries.
   */
  binary(dir: Direction, bytes: number): void {
    const run = this.runs[dir];
    if (run?.frames !== undefined && this.nodes.has(run)) {
      run.frames += 1;
      run.bytes = (run.bytes ?? 0) + bytes;
      run.json = summary(run.frames, run.bytes);
      this.render(run);
      return;
    }
    const entry: LogEntry = { at: stamp(), dir, type: 'Audio', json: summary(1, bytes), frames: 1, bytes };
    this.runs[dir] = entry;
    this.push(entry);
  }

  setFilter(text: string): void {
    this.filter = text.trim().toLowerCase();
    for (const [entry, node] of this.nodes) node.hidden = !this.matches(entry);
    this.updateCount();
  }

  /** The shown entries as JSON lines (audio as its summary), oldest first. */
  text(): string {
    return this.entries
      .filter((e) => this.matches(e))
      .map((e) => `${e.at} ${e.dir === 'in' ? '<-' : '->'} ${e.json}`)
      .join('\n');
  }

  clear(): void {
    this.entries.length = 0;
    this.nodes.clear();
    this.list.replaceChildren();
    this.updateCount();
  }

  private matches(entry: LogEntry): boolean {
    return this.filter === '' || entry.type.toLowerCase().includes(this.filter);
  }

  private push(entry: LogEntry): void {
    this.entries.push(entry);
    const node = document.createElement('li');
    node.dataset['dir'] = entry.dir;
    this.nodes.set(entry, node);
    this.render(entry);
    const stick = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 8;
    this.list.append(node);
    if (this.entries.length > LIMIT) {
      const old = this.entries.shift();
      if (old) {
        this.nodes.get(old)?.remove();
        this.nodes.delete(old);
      }
    }
    if (stick) this.list.scrollTop = this.list.scrollHeight;
    this.updateCount();
  }

  private render(entry: LogEntry): void {
    const node = this.nodes.get(entry);
    if (!node) return;
    node.hidden = !this.matches(entry);
    const at = document.createElement('time');
    at.textContent = entry.at;
    const dir = document.createElement('span');
    dir.className = 'dir';
    dir.textContent = entry.dir === 'in' ? '←' : '→';
    dir.title = entry.dir === 'in' ? 'from the server' : 'to the server';
    const type = document.createElement('span');
    type.className = 'type';
    type.textContent = entry.type;
    const json = document.createElement('code');
    json.textContent = entry.json;
    node.replaceChildren(at, dir, type, json);
  }

  private updateCount(): void {
    const shown = this.entries.filter((e) => this.matches(e)).length;
    this.count.textContent = shown === this.entries.length ? `${shown} events` : `${shown} of ${this.entries.length} events`;
  }
}

function summary(frames: number, bytes: number): string {
  return `(binary audio: ${frames} frame${frames === 1 ? '' : 's'}, ${bytes} bytes)`;
}
