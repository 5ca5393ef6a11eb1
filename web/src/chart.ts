/** One turn's latencies in milliseconds; parts are absent when the server did not report them. */
export interface TurnLatency {
  turn: number;
  totalMs: number;
  sttMs?: number;
  thinkMs?: number;
  ttsMs?: number;
}

/**
 * A turn's figures from its `LatencyReport` (seconds on the wire). `total_latency` runs from the
 * end of the user's speech to the first agent audio; `stt_latency` (endpointing and
 * transcription), the think figure and `tts_latency` follow one another inside it
 * (docs/protocol-decisions.md#latency-events-on-every-turn). A server whose total leaves the transcription out would draw the
 * parts past it, so a bar is the larger of the total and the sum of the parts.
 */
export function turnLatency(
  turn: number,
  report: { total_latency?: number; stt_latency?: number; ttt_text_latency?: number; ttt_token_latency?: number; tts_latency?: number },
): TurnLatency {
  const ms = (s: number | undefined): number | undefined => (s === undefined ? undefined : s * 1000);
  const figures: TurnLatency = { turn, totalMs: 0 };
  const stt = ms(report.stt_latency);
  const think = ms(report.ttt_text_latency ?? report.ttt_token_latency);
  const tts = ms(report.tts_latency);
  if (stt !== undefined) figures.sttMs = stt;
  if (think !== undefined) figures.thinkMs = think;
  if (tts !== undefined) figures.ttsMs = tts;
  figures.totalMs = Math.max(ms(report.total_latency) ?? 0, (stt ?? 0) + (think ?? 0) + (tts ?? 0));
  return figures;
}

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 360;
const HEIGHT = 160;
const AXIS = 28;
const MAX_TURNS = 12;
const NAMES: Record<string, string> = { stt: 'endpointing and transcription', ttt: 'thinking', tts: 'speech synthesis', other: 'other' };
/** Each figure is rounded to the millisecond on the wire: a rest this small is rounding, not a segment. */
const ROUNDING_MS = 4;

function el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Stacked bars (STT, thinking, TTS, rest), one `g.turn-bar` per turn, the last MAX_TURNS turns, total on top. */
export function renderLatencyChart(svg: SVGSVGElement, turns: readonly TurnLatency[]): void {
  svg.replaceChildren();
  const shown = turns.slice(-MAX_TURNS);
  // Headroom over the tallest bar keeps its value clear of the scale label, rounded to 100 ms.
  const scaleMax = Math.ceil(Math.max(500, ...shown.map((t) => t.totalMs * 1.15)) / 100) * 100;
  const plotHeight = HEIGHT - AXIS - 14;
  const slot = (WIDTH - AXIS) / MAX_TURNS;
  const y = (ms: number): number => (ms / scaleMax) * plotHeight;
  svg.append(el('line', { x1: AXIS, y1: HEIGHT - AXIS, x2: WIDTH, y2: HEIGHT - AXIS, class: 'axis' }));
  svg.append(el('text', { x: 2, y: 14, class: 'tick' }, `${Math.round(scaleMax)} ms`));
  if (shown.length === 0) svg.append(el('text', { x: WIDTH / 2, y: HEIGHT / 2, class: 'tick empty' }, 'one bar per answered turn'));
  shown.forEach((turn, i) => {
    const x = AXIS + i * slot + slot * 0.15;
    const width = slot * 0.7;
    let base = HEIGHT - AXIS;
    const group = el('g', { class: 'turn-bar', 'data-turn': turn.turn });
    svg.append(group);
    const known = (turn.sttMs ?? 0) + (turn.thinkMs ?? 0) + (turn.ttsMs ?? 0);
    const parts: [string, number][] = [
      ['stt', turn.sttMs ?? 0],
      ['ttt', turn.thinkMs ?? 0],
      ['tts', turn.ttsMs ?? 0],
      ['other', turn.totalMs - known < ROUNDING_MS ? 0 : turn.totalMs - known],
    ];
    for (const [kind, ms] of parts) {
      if (ms <= 0) continue;
      const h = y(ms);
      base -= h;
      const rect = el('rect', { x, y: base, width, height: h, class: `bar ${kind}` });
      rect.append(el('title', {}, `${NAMES[kind] ?? kind}: ${Math.round(ms)} ms`));
      group.append(rect);
    }
    group.append(el('text', { x: x + width / 2, y: base - 3, class: 'value' }, String(Math.round(turn.totalMs))));
    group.append(el('text', { x: x + width / 2, y: HEIGHT - AXIS + 14, class: 'tick turn' }, String(turn.turn)));
  });
}
