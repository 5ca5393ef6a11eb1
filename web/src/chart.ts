/** One turn's latencies in milliseconds; parts are absent when the server did not report them. */
export interface TurnLatency {
  turn: number;
  totalMs: number;
  sttMs?: number;
  thinkMs?: number;
  ttsMs?: number;
}

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 360;
const HEIGHT = 160;
const AXIS = 28;
const MAX_TURNS = 12;

function el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Stacked bars (STT, thinking, TTS, rest) per turn, the last MAX_TURNS turns, total on top. */
export function renderLatencyChart(svg: SVGSVGElement, turns: readonly TurnLatency[]): void {
  svg.replaceChildren();
  const shown = turns.slice(-MAX_TURNS);
  const scaleMax = Math.max(500, ...shown.map((t) => t.totalMs));
  const plotHeight = HEIGHT - AXIS - 14;
  const slot = (WIDTH - AXIS) / MAX_TURNS;
  const y = (ms: number): number => (ms / scaleMax) * plotHeight;
  svg.append(el('line', { x1: AXIS, y1: HEIGHT - AXIS, x2: WIDTH, y2: HEIGHT - AXIS, class: 'axis' }));
  svg.append(el('text', { x: 2, y: 14, class: 'tick' }, `${Math.round(scaleMax)} ms`));
  shown.forEach((turn, i) => {
    const x = AXIS + i * slot + slot * 0.15;
    const width = slot * 0.7;
    let base = HEIGHT - AXIS;
    const known = (turn.sttMs ?? 0) + (turn.thinkMs ?? 0) + (turn.ttsMs ?? 0);
    const parts: [string, number][] = [
      ['stt', turn.sttMs ?? 0],
      ['ttt', turn.thinkMs ?? 0],
      ['tts', turn.ttsMs ?? 0],
      ['other', Math.max(0, turn.totalMs - known)],
    ];
    for (const [kind, ms] of parts) {
      if (ms <= 0) continue;
      const h = y(ms);
      base -= h;
      const rect = el('rect', { x, y: base, width, height: h, class: `bar ${kind}` });
      rect.append(el('title', {}, `${kind}: ${Math.round(ms)} ms`));
      svg.append(rect);
    }
    svg.append(el('text', { x: x + width / 2, y: base - 3, class: 'value' }, String(Math.round(turn.totalMs))));
    svg.append(el('text', { x: x + width / 2, y: HEIGHT - AXIS + 14, class: 'tick turn' }, String(turn.turn)));
  });
}
