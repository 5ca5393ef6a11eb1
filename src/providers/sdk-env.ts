/**
 * The headers an SDK would add from its `*_CUSTOM_HEADERS` variable, set to null so that the SDK
 * drops them: both SDKs read that variable from process.env whatever base URL they are given.
 */
export function dropEnvHeaders(variable: 'OPENAI_CUSTOM_HEADERS' | 'ANTHROPIC_CUSTOM_HEADERS'): Record<string, null> {
  const lines = (process.env[variable] ?? '').split('\n');
  return Object.fromEntries(lines.flatMap((line) => (line.includes(':') ? [[line.slice(0, line.indexOf(':')).trim(), null]] : [])));
}
