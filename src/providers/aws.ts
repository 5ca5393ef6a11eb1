import type { Endpoint, ProviderSettings } from '../protocol/agent-config.js';
import type { LookupFunction } from 'node:net';
import { envKey, keyMayGoTo } from './keys.js';
import { outboundGuard } from './outbound.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts: number;
  /** For a client's endpoint: the SDK's HTTP/2 handler connects only where the outbound guard allows. */
  requestHandler?: { disableConcurrentStreams: boolean; nodeHttp2ConnectOptions: { lookup?: LookupFunction } };
}

function field(record: Record<string, unknown>, name: string): string | undefined {
  const value = record[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Client configuration from `provider.credentials` (the protocol's AWS fields: type sts|iam, region,
 * access_key_id, secret_access_key, session_token), else the server's AWS_* env, which only
 * signs requests to the service's own AWS endpoints (`keyMayGoTo`); a client's endpoint without
 * client credentials is signed with a placeholder, never with the SDK's default chain (the
 * server's own identity). Retries are off: the session runs the fallback chain.
 */
export function awsClientConfig(
  service: 'aws_bedrock' | 'aws_polly',
  provider: ProviderSettings,
  endpoint: Endpoint | undefined,
  env: Env,
): { config: AwsClientConfig; secrets: (string | undefined)[] } {
  const given = typeof provider['credentials'] === 'object' && provider['credentials'] !== null
    ? (provider['credentials'] as Record<string, unknown>)
    : {};
  const region = field(given, 'region') ?? regionFromUrl(endpoint?.url) ?? envKey(env, 'AWS_REGION', 'AWS_DEFAULT_REGION') ?? 'us-east-1';
  const target = endpoint?.url ?? `https://${service === 'aws_bedrock' ? 'bedrock-runtime' : 'polly'}.${region}.amazonaws.com`;
  const serverMaySign = keyMayGoTo(service, target, env);
  const own: Env = serverMaySign ? env : {};
  const accessKeyId = field(given, 'access_key_id') ?? envKey(own, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = field(given, 'secret_access_key') ?? envKey(own, 'AWS_SECRET_ACCESS_KEY');
  const sessionToken = field(given, 'session_token') ?? (field(given, 'access_key_id') === undefined ? envKey(own, 'AWS_SESSION_TOKEN') : undefined);
  const config: AwsClientConfig = { region, maxAttempts: 1 };
  if (endpoint !== undefined) {
    config.endpoint = endpoint.url;
    // The clients' own default, plus the guard's lookup.
    config.requestHandler = { disableConcurrentStreams: true, nodeHttp2ConnectOptions: outboundGuard(env).socketOptions(endpoint.url) };
  }
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    config.credentials = { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
  } else if (!serverMaySign) {
    config.credentials = { accessKeyId: 'none', secretAccessKey: 'none' };
  }
  return { config, secrets: [secretAccessKey, sessionToken] };
}

function regionFromUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  return /\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com/.exec(url)?.[1];
}
