// Fills the {name} placeholders of a response template.

/** A tool result as something a voice can say: JSON objects become "key value, key value". */
export function speakable(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(speakable).filter((s) => s !== '').join(', ');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, v]) => `${key.replace(/_/g, ' ')} ${speakable(v)}`.trim())
      .join(', ');
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  // Values come from JSON.parse, so nothing else (functions, symbols) reaches here.
  return '';
}

export interface TemplateValues {
  slots: Record<string, string>;
  now: Date;
  /** The content of the function result, when the response follows a function call. */
  result?: string;
  /** The worked-out `compute` of the intent. */
  answer?: string;
  /** What the agent said in its last reply. */
  lastReply?: string;
}

export function fillTemplate(template: string, values: TemplateValues): string {
  const filled = template.replace(/\{([a-z_][a-z0-9_.]*)\}/gi, (_, name: string) => lookup(name, values));
  return filled.replace(/\s+/g, ' ').replace(/\s+([.,!?])/g, '$1').trim();
}

function lookup(name: string, values: TemplateValues): string {
  if (name in values.slots) return values.slots[name] ?? '';
  switch (name) {
    case 'time':
      return values.now.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit' });
    case 'date':
      return values.now.toLocaleDateString('en-US', { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });
    case 'day':
      return values.now.toLocaleDateString('en-US', { weekday: 'long' });
    case 'answer':
      return values.answer ?? '';
    case 'last_reply':
      return values.lastReply ?? '';
  }
  if (name === 'result' || name.startsWith('result.')) return resultField(values.result, name.split('.').slice(1));
  return '';
}

function resultField(content: string | undefined, path: string[]): string {
  if (content === undefined) return '';
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    return path.length === 0 ? content : '';
  }
  for (const key of path) {
    if (value === null || typeof value !== 'object') return '';
    value = (value as Record<string, unknown>)[key];
  }
  return speakable(value);
}
