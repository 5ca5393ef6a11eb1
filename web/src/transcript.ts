export type LineKind = 'user' | 'assistant' | 'function' | 'result' | 'notice' | 'error';

const LABELS: Record<LineKind, string> = {
  user: 'You',
  assistant: 'Agent',
  function: 'Function call',
  result: 'Function result',
  notice: 'Note',
  error: 'Error',
};

/** Appends one line to the conversation list and keeps the newest in view. */
export function addLine(list: HTMLOListElement, kind: LineKind, text: string): void {
  const item = document.createElement('li');
  item.className = kind;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = LABELS[kind];
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  item.append(who, body);
  list.append(item);
  item.scrollIntoView({ block: 'end' });
}
