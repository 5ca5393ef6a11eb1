import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus figures of one server (own registry, so several servers in a process don't mix). */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly sessionsOpen = new Gauge({ name: 'parley_sessions_open', help: 'Sessions open now', registers: [this.registry] });
  readonly sessionsTotal = new Counter({ name: 'parley_sessions_total', help: 'Sessions accepted', registers: [this.registry] });
  readonly turns = new Counter({ name: 'parley_turns_total', help: 'Agent responses completed', registers: [this.registry] });
  readonly errors = new Counter({
    name: 'parley_errors_total',
    help: 'Error events sent to clients, by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly warnings = new Counter({
    name: 'parley_warnings_total',
    help: 'Warning events sent to clients, by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'parley_upgrades_refused_total',
    help: 'WebSocket upgrades refused, by HTTP status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly turnLatency = new Histogram({
    name: 'parley_turn_latency_seconds',
    help: "End of the user's speech (endpointing and transcription included) to first agent audio, per turn that answers speech",
    buckets: [0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
  }

  /** A reply ended; its latency counts when it answered the user's speech (`sttMs`), not a greeting or an injection. */
  observeTurn(latency: { totalMs?: number; sttMs?: number }): void {
    this.turns.inc();
    if (latency.totalMs !== undefined && latency.sttMs !== undefined) this.turnLatency.observe(latency.totalMs / 1000);
  }
}
