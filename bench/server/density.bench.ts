/**
 * Density: CPU the whole process (event loop and engine workers) spends per second of caller
 * audio, with the embedded classic engines, for sessions that listen to real speech and answer,
 * against sessions that only receive silence, measured in the same run. Sessions per core =
 * 1000 / CPU ms per audio second.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../../src/core/logger.js';
import { startParley } from '../../src/server/start-parley.js';
import { AgentSocket, silence } from '../../test/support/agent-socket.js';
import { librivoxClips } from '../../test/support/fixtures.js';
import { printTable, summarize } from '../harness.js';

const SESSIONS = 4;
const ROUNDS = 3;

async function openSession(url: string): Promise<AgentSocket> {
  const socket = await AgentSocket.open(`${url}/v1/agent/converse`);
  socket.send({
    type: 'Settings',
    audio: { input: { encoding: 'linear16', sample_rate: 16000 }, output: { encoding: 'linear16', sample_rate: 16000 } },
    agent: { listen: { provider: { type: 'pocketsphinx' } }, think: { provider: { type: 'rules' } }, speak: { provider: { type: 'flite' } } },
  });
  await socket.waitFor('SettingsApplied');
  return socket;
}

/** Streams each session's audio at real time in 20 ms frames; returns the audio seconds sent. */
async function stream(sockets: AgentSocket[], audio: Buffer[]): Promise<number> {
  const frame = 640;
  const frames = Math.max(...audio.map((a) => Math.ceil(a.length / frame)));
  const start = performance.now();
  for (let i = 0; i < frames; i++) {
    const wait = start + i * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sockets.forEach((socket, s) => {
      const bytes = audio[s]?.subarray(i * frame, (i + 1) * frame);
      if (bytes !== undefined && bytes.length > 0) socket.sendAudio(bytes);
    });
  }
  return audio.reduce((n, a) => n + a.length / 32000, 0);
}

async function cpuPerAudioSecond(sockets: AgentSocket[], audio: Buffer[]): Promise<number> {
  const before = process.cpuUsage();
  const seconds = await stream(sockets, audio);
  await new Promise((r) => setTimeout(r, 2000));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (seconds + (2 * sockets.length));
}

export default async function (): Promise<void> {
  const parley = await startParley({ env: { PATH: process.env['PATH'] }, overrides: { port: 0 }, logger: silentLogger() });
  const sockets = await Promise.all(Array.from({ length: SESSIONS }, () => openSession(parley.server.url)));
  const speech = librivoxClips().slice(0, SESSIONS).map((clip) => Buffer.concat([readFileSync(clip.path).subarray(44), silence(1500)]));
  const quiet = speech.map((s) => silence(s.length / 32));
  const speaking: number[] = [];
  const idle: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    idle.push(await cpuPerAudioSecond(sockets, quiet));
    speaking.push(await cpuPerAudioSecond(sockets, speech));
  }
  for (const socket of sockets) socket.close();
  await parley.close();
  const talk = summarize(speaking);
  const still = summarize(idle);
  printTable(`Density, classic engines: CPU ms per second of caller audio (${SESSIONS} concurrent sessions, ${ROUNDS} rounds)`, [
    { sessions: 'listening to silence (baseline)', 'cpu ms/s median': still.median, 'cpu ms/s p95': still.p95, 'sessions per core': 1000 / still.median },
    { sessions: 'real speech, answered', 'cpu ms/s median': talk.median, 'cpu ms/s p95': talk.p95, 'sessions per core': 1000 / talk.median },
  ]);
}
