import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningServer } from '../../src/server/index.js';
import type { PcmChunk, SpeakProvider } from '../../src/speak/types.js';
import { AgentSocket } from '../support/agent-socket.js';
import { collectGarbage } from '../support/memory.js';
import type { Json } from '../support/agent-socket.js';
import { scriptedProviders } from '../support/scripted-providers.js';
import { startTestServer } from '../support/test-server.js';


const MiB = 1024 * 1024;
const RATE = 16000;

/** A voice far faster than real time: 30 s of audio per sentence, in 10 s chunks. */
const firehose: SpeakProvider = {
  label: 'firehose',
  async *synthesize(_text: string, signal: AbortSignal): AsyncGenerator<PcmChunk> {
    for (let i = 0; i < 3 && !signal.aborted; i++) {
      await sleep(1);
      yield { samples: new Int16Array(10 * RATE).fill(1000), sampleRate: RATE };
    }
  },
};

function settings(speak: string): Json {
  return {
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: RATE }, output: { encoding: 'linear16', sample_rate: RATE, container: 'none' } },
    agent: { listen: { provider: { type: 'scripted' } }, think: { provider: { type: 'scripted' } }, speak: { provider: { type: speak } } },
  };
}

/** A real client that stops reading: the kernel buffers fill, then the server's own queue grows. */
async function pausedReader(server: RunningServer, speak: string): Promise<{ socket: AgentSocket; resume(): void }> {
  const socket = await AgentSocket.open(`${server.url}/v1/agent/converse`);
  socket.send(settings(speak));
  await socket.waitFor('SettingsApplied');
  const tcp = (socket.ws as unknown as { _socket: Socket })._socket;
  tcp.pause();
  // It keeps sending, so the idle timer is not what closes it.
  const keepAlive = setInterval(() => socket.send({ type: 'KeepAlive' }), 100);
  return {
    socket,
    resume() {
      clearInterval(keepAlive);
      tcp.resume();
    },
  };
}

async function tooSlowCount(server: RunningServer): Promise<number> {
  const { values } = await server.metrics.errors.get();
  return values.find((v) => v.labels['code'] === 'CLIENT_TOO_SLOW')?.value ?? 0;
}

async function bytesHeld(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await sleep(20);
  }
  return process.memoryUsage().arrayBuffers;
}

describe('a client that stops reading', () => {
  const servers: RunningServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });

  it('is sent CLIENT_TOO_SLOW and closed once it stays behind, its session and buffers freed, while another session goes on', async () => {
    const providers = scriptedProviders();
    providers.speak.register('firehose', () => firehose);
    // Pacing and the synthesis bound off, so the firehose outruns the client at once.
    const server = await startTestServer({ maxClientBufferBytes: 8 * MiB, clientBufferGraceMs: 1000, playoutLeadMs: 600_000, synthesisAheadMs: 600_000 }, providers);
    servers.push(server);
    const bystander = await AgentSocket.open(`${server.url}/v1/agent/converse`);
    bystander.send(settings('scripted'));
    await bystander.waitFor('SettingsApplied');
    const baseline = await bytesHeld();

    const slow = await pausedReader(server, 'firehose');
    slow.socket.send({ type: 'InjectAgentMessage', message: Array.from({ length: 30 }, (_, i) => `Sentence ${i}.`).join(' ') });
    let peak = 0;
    for (let waited = 0; server.sessionCount() > 1; waited += 20) {
      assert.ok(waited < 30_000, 'the slow client was not closed');
      collectGarbage();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      await sleep(20);
    }
    assert.equal(await tooSlowCount(server), 1);
    // The client's backlog really was held here (then audio past half the bound was dropped).
    assert.ok(peak - baseline > 3 * MiB, `the server held ${((peak - baseline) / MiB).toFixed(1)} MiB for the client`);
    // Measured before the client reads again: what it then reads from the kernel, it keeps.
    const held = (await bytesHeld()) - baseline;
    assert.ok(held < 1 * MiB, `${(held / MiB).toFixed(1)} MiB still held after the close`);
    slow.resume();
    await Promise.race([slow.socket.closed(), sleep(5000).then(() => assert.fail('the client socket stayed open'))]);

    bystander.send({ type: 'InjectUserMessage', content: 'still here' });
    await bystander.waitFor('ConversationText', (e) => e.content === 'You said: still here.');
    await bystander.waitFor('AgentAudioDone');
    assert.deepEqual(bystander.events('Error'), []);
    assert.equal(server.sessionCount(), 1);
    bystander.close();
  });

  it('is closed at once at the hard bound when the answers to its own messages pile up, before any grace period ends', async () => {
    // A grace far longer than the test: only the hard bound can close this client.
    const server = await startTestServer({ maxClientBufferBytes: 1 * MiB, clientBufferGraceMs: 600_000 });
    servers.push(server);
    const slow = await pausedReader(server, 'scripted');
    slow.socket.send({ type: 'InjectAgentMessage', message: 'tell me a story '.repeat(50) });
    // Each refused injection is answered with InjectionRefused and a Warning.
    const injection = JSON.stringify({ type: 'InjectAgentMessage', message: 'x' });
    for (let sent = 0; server.sessionCount() > 0; sent++) {
      assert.ok(sent < 200_000, 'the slow client was not closed');
      slow.socket.sendRaw(injection);
      if (sent % 500 === 499) await sleep(1);
    }
    assert.equal(await tooSlowCount(server), 1);
    slow.resume();
    await Promise.race([slow.socket.closed(), sleep(5000).then(() => assert.fail('the client socket stayed open'))]);
  });
});
