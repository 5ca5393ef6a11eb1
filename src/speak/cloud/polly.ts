import { PollyClient, SynthesizeSpeechCommand } from '@aws-sdk/client-polly';
import type { Engine, LanguageCode, SynthesizeSpeechCommandInput, VoiceId } from '@aws-sdk/client-polly';
import type { ProviderContext } from '../../core/provider-context.js';
import type { SpeakSettings } from '../../protocol/agent-config.js';
import { awsClientConfig } from '../../providers/aws.js';
import { guarded } from '../../providers/guard.js';
import { str, timeoutMs } from '../../providers/settings.js';
import type { PcmChunk, SpeakProvider } from '../types.js';
import { Pcm16Assembler } from '../../audio/pcm16.js';

/** Polly's `pcm` output is signed 16-bit little-endian mono; 16 kHz is its highest PCM rate. */
const SAMPLE_RATE = 16000;

export function createPollySpeak(settings: SpeakSettings, context: ProviderContext): SpeakProvider {
  const { provider, endpoint } = settings;
  const aws = awsClientConfig('aws_polly', provider, endpoint, context.env);
  const client = new PollyClient(aws.config);
  const voice = str(provider, 'voice') ?? 'Joanna';
  const engine = (str(provider, 'engine') ?? 'neural').toLowerCase();
  const language = str(provider, 'language') ?? str(provider, 'language_code');
  const timeout = timeoutMs(provider, context.env);

  async function* run(text: string, signal: AbortSignal): AsyncIterable<PcmChunk> {
    const input: SynthesizeSpeechCommandInput = {
      Text: text,
      OutputFormat: 'pcm',
      SampleRate: String(SAMPLE_RATE),
      VoiceId: voice as VoiceId,
      Engine: engine as Engine,
    };
    if (language !== undefined) input.LanguageCode = language as LanguageCode;
    const response = await client.send(new SynthesizeSpeechCommand(input), { abortSignal: signal });
    if (response.AudioStream === undefined) return;
    const assembler = new Pcm16Assembler();
    // In Node the payload is a Readable, which is an async iterable of byte chunks.
    for await (const bytes of response.AudioStream as AsyncIterable<Uint8Array>) {
      const samples = assembler.push(bytes);
      if (samples.length > 0) yield { samples, sampleRate: SAMPLE_RATE };
    }
  }

  return {
    label: `aws_polly/${voice}`,
    synthesize: (text, signal) =>
      guarded({ kind: 'speak', provider: 'aws_polly', timeoutMs: timeout, secrets: aws.secrets, signal }, (inner) =>
        run(text, inner),
      ),
    close: () => client.destroy(),
  };
}
