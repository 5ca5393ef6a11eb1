import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Agent, getGlobalDispatcher } from 'undici';
import type { Dispatcher } from 'undici';
import { readTextUpTo } from './bounded-body.js';
import { operatorBaseUrl, originOf } from './keys.js';

type Env = Readonly<Record<string, string | undefined>>;
type Family = 'ipv4' | 'ipv6';

/** The variable an operator sets to let client-steered requests reach what they run themselves. */
export const ALLOWED_HOSTS_VARIABLE = 'PARLEY_ALLOWED_HOSTS';

/**
 * Address ranges a client-steered request never reaches (docs/security.md#the-outbound-guard).
 * IPv4-mapped IPv6 forms (::ffff:a.b.c.d) match the IPv4 rules: BlockList checks them so.
 */
const FORBIDDEN: readonly (readonly [string, number, Family, string])[] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'ipv4', 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'ipv4', 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignment'],
  ['192.168.0.0', 16, 'ipv4', 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved or broadcast'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::', 96, 'ipv6', 'IPv4-compatible (deprecated)'],
  ['64:ff9b::', 96, 'ipv6', 'IPv4-translation (NAT64)'],
  ['64:ff9b:1::', 48, 'ipv6', 'IPv4-translation (NAT64)'],
  ['100::', 64, 'ipv6', 'discard-only'],
  ['2002::', 16, 'ipv6', 'IPv4-translation (6to4)'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local (deprecated)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const RANGES = FORBIDDEN.map(([network, prefix, family, label]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, label };
});

function familyOf(address: string): Family | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** Why an IP address is off limits (e.g. "loopback"), or undefined for a public address. */
export function forbiddenRange(address: string): string | undefined {
  const family = familyOf(address);
  if (family === undefined) return undefined;
  return RANGES.find((range) => range.list.check(address, family))?.label;
}

/** A host name without IPv6 brackets or a trailing dot, lower case: how URLs and allow-list entries compare. */
function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80;
}

/** What PARLEY_ALLOWED_HOSTS lets through: names (optionally with a port) and address ranges. */
export interface AllowList {
  names: readonly { host: string; port?: number }[];
  ranges: BlockList;
}

/**
 * Parses PARLEY_ALLOWED_HOSTS: comma-separated `host`, `host:port`, `[v6]:port` (the name as the
 * URL writes it) or CIDR / bare address (any resolved address inside, any port). Throws a
 * readable Error for an entry that is none of these, so a typo fails at start.
 */
export function parseAllowedHosts(text: string): AllowList {
  const names: { host: string; port?: number }[] = [];
  const ranges = new BlockList();
  for (const raw of text.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    const cidr = /^([0-9a-f:.]+)\/(\d{1,3})$/.exec(entry);
    const bare = familyOf(entry);
    if (cidr !== null) {
      const [, network = '', prefix = ''] = cidr;
      const family = familyOf(network);
      const bits = Number(prefix);
      if (family === undefined || bits > (family === 'ipv4' ? 32 : 128)) throw badEntry(raw);
      ranges.addSubnet(network, bits, family);
      continue;
    }
    if (bare !== undefined) {
      ranges.addAddress(entry, bare);
      continue;
    }
    const named = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(entry);
    if (named === null) throw badEntry(raw);
    const [, host = '', port] = named;
    const portNumber = port === undefined ? undefined : Number(port);
    if (portNumber !== undefined && (portNumber < 1 || portNumber > 65535)) throw badEntry(raw);
    names.push({ host: bareHost(host), ...(portNumber === undefined ? {} : { port: portNumber }) });
  }
  return { names, ranges };
}

function badEntry(entry: string): Error {
  return new Error(`${ALLOWED_HOSTS_VARIABLE}: "${entry.trim()}" is not a host, host:port, address or CIDR range`);
}

/** A client-steered request was refused: the message says why and which variable would allow it. */
export class OutboundRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundRefused';
  }
}

/** The OutboundRefused somewhere in an error's cause chain (fetch and SDKs wrap it). */
export function outboundRefusalIn(err: unknown): OutboundRefused | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current instanceof OutboundRefused) return current;
    current = current.cause;
  }
  return undefined;
}

function allowHint(url: URL): string {
  const host = url.hostname.replace(/\.$/, '');
  return `an operator can allow it with ${ALLOWED_HOSTS_VARIABLE}=${host}:${effectivePort(url)}`;
}

/** Headers that carry credentials; dropped when a redirect leaves the origin, as browsers drop Authorization. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'x-api-key', 'api-key', 'xi-api-key', 'x-goog-api-key'];
const MAX_REDIRECTS = 5;

/**
 * The one outbound guard for every URL a client's settings can steer (function endpoints; think,
 * speak and listen endpoints). A request is refused when the URL's host is an off-limits address
 * as written (`refusalOf`, also checked at Settings time), or when its name resolves to one: the
 * check runs inside the connection's own DNS lookup, so the address checked is the address
 * connected to (no rebinding window). Redirects are followed by hand and each one is checked.
 * Names or ranges in PARLEY_ALLOWED_HOSTS, and the origins of the base URLs the operator set
 * (OPENAI_BASE_URL, ANTHROPIC_BASE_URL, DEEPGRAM_BASE_URL), are let through.
 */
export class OutboundGuard {
  private readonly trustedOrigins: ReadonlySet<string>;
  private readonly guardedDispatcher: Agent;

  constructor(
    private readonly allow: AllowList,
    trustedBaseUrls: readonly string[] = [],
  ) {
    this.trustedOrigins = new Set(trustedBaseUrls.flatMap((url) => originOf(url)?.origin ?? []));
    this.guardedDispatcher = new Agent({ connect: { lookup: this.lookup } });
  }

  /**
   * Why the URL as written may not be requested (scheme, an off-limits literal address or
   * `localhost`), or undefined. A name is checked later, on the address it resolves to.
   */
  refusalOf(rawUrl: string | URL): string | undefined {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return `"${String(rawUrl)}" is not a valid URL`;
    }
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return `${url.protocol} URLs are not supported`;
    if (this.nameAllowed(url)) return undefined;
    const host = bareHost(url.hostname);
    if ((host === 'localhost' || host.endsWith('.localhost')) && !this.allow.ranges.check('127.0.0.1', 'ipv4')) {
      return `${url.host} is this server itself (loopback); ${allowHint(url)}`;
    }
    const range = forbiddenRange(host);
    if (range === undefined || this.allow.ranges.check(host, familyOf(host) ?? 'ipv4')) return undefined;
    return `${url.host} is in the ${range} address range, which a client's settings may not reach; ${allowHint(url)}`;
  }

  /** Throws OutboundRefused unless `refusalOf` passes. */
  check(url: string | URL): void {
    const refusal = this.refusalOf(url);
    if (refusal !== undefined) throw new OutboundRefused(refusal);
  }

  /**
   * Options for `ws`, http.request or http2.connect that connect only to checked addresses; throws
   * OutboundRefused for an off-limits URL as written.
   */
  socketOptions(rawUrl: string): { lookup?: LookupFunction } {
    const url = new URL(rawUrl);
    this.check(url);
    return this.nameAllowed(url) ? {} : { lookup: this.lookup };
  }

  /**
   * A request with the guard: every hop of a redirect chain is checked, credentials stay on their
   * origin, an error body (status ≥ 400) is cut to MAX_ERROR_BODY_BYTES. undici's own request, not
   * fetch: the body is a Node stream, with none of fetch's web streams, Request clones and
   * controllers, which at a few hundred sessions (four requests a turn each) cost a good part of
   * the event loop and full collections (bench/server/load.bench.ts).
   */
  readonly request = async (input: string | URL, init: RequestInit = {}): Promise<GuardedResponse> => {
    let url = new URL(input);
    let request: RequestInit = init;
    const origin = url.origin;
    for (let hop = 0; ; hop++) {
      this.check(url);
      // A name the operator allowed goes through the process's own dispatcher, without the address check.
      const dispatcher = this.nameAllowed(url) ? getGlobalDispatcher() : this.guardedDispatcher;
      let response: Dispatcher.ResponseData;
      try {
        response = await dispatcher.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: (request.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
          headers: headerPairs(request.headers),
          body: requestBody(request.body),
          signal: request.signal ?? null,
        });
      } catch (err) {
        throw outboundRefusalIn(err) ?? err;
      }
      const { statusCode: status, headers, body } = response;
      // Whoever reads the body sees its failure; one nobody reads (a redirect's, a cancelled one) fails quietly, as fetch's does.
      body.on('error', () => undefined);
      const location = headers['location'];
      if (status >= 400) {
        // An error body that fails midway is quoted as nothing: the status still says what happened.
        const { text } = await readTextUpTo(body, MAX_ERROR_BODY_BYTES).catch(() => ({ text: '' }));
        body.destroy();
        const { 'content-length': _length, 'content-encoding': _encoding, ...rest } = headers;
        return { status, headers: rest, body: Readable.from([Buffer.from(text)]) };
      }
      if (status < 300 || typeof location !== 'string') return { status, headers, body };
      body.destroy();
      if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
      url = new URL(location, url);
      request = redirected(request, status, url.origin !== origin);
    }
  };

  /** `fetch` with the guard (`request`, answered as a fetch Response), for the SDKs and function calls. */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    if (input instanceof Request) throw new TypeError('OutboundGuard.fetch takes a URL');
    const { status, headers, body } = await this.request(input, init);
    const answer = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (Array.isArray(value)) for (const each of value) answer.append(name, each);
      else if (value !== undefined) answer.append(name, value);
    }
    // fetch decodes compressed bodies itself, and so does this, for the SDKs that expect it.
    const decoded = decompressed(body, answer.get('content-encoding'));
    if (decoded !== body) {
      answer.delete('content-encoding');
      answer.delete('content-length');
    }
    const empty = NULL_BODY_STATUSES.has(status) || (init.method ?? 'GET').toUpperCase() === 'HEAD';
    if (empty) body.destroy();
    return new Response(empty ? null : decoded, { status, headers: answer });
  };

  /** The dns.lookup the guarded connections use: every resolved address must be allowed. */
  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err !== null) return callback(err, '', 0);
      for (const { address, family } of addresses) {
        const range = forbiddenRange(address);
        if (range !== undefined && !this.allow.ranges.check(address, family === 6 ? 'ipv6' : 'ipv4')) {
          const refused = new OutboundRefused(
            `${hostname} resolves to ${address}, in the ${range} address range, which a client's settings may not reach; an operator can allow it with ${ALLOWED_HOSTS_VARIABLE}=${hostname}`,
          );
          return callback(refused, '', 0);
        }
      }
      if (options.all === true) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (first === undefined) return callback(new Error(`${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };

  private nameAllowed(url: URL): boolean {
    if (this.trustedOrigins.has(originOf(url.href)?.origin ?? '')) return true;
    const host = bareHost(url.hostname);
    const port = effectivePort(url);
    return this.allow.names.some((entry) => entry.host === host && (entry.port === undefined || entry.port === port));
  }
}

/** Error bodies are only ever quoted: an SDK reading them whole gets at most this much. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Statuses whose response has no body (a fetch Response refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** A guarded request's answer: status, headers as Node writes them, and the body as a Node stream. */
export interface GuardedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

/** Headers of a RequestInit as undici's request takes them (a record or an iterable of pairs). */
function headerPairs(headers: RequestInit['headers']): Dispatcher.RequestOptions['headers'] {
  if (headers === undefined) return null;
  if (Array.isArray(headers)) return new Headers(headers);
  return headers instanceof Headers ? headers : (headers as Record<string, string>);
}

/** A RequestInit body as undici's request sends it (a string, bytes, FormData, a Blob or a stream). */
function requestBody(body: RequestInit['body']): Dispatcher.RequestOptions['body'] {
  // undici would send its entries as chunks; no caller sends one, and fetch's content type would be missing.
  if (body instanceof URLSearchParams) throw new TypeError('OutboundGuard: send a URLSearchParams body as its text, with its content type');
  return (body ?? null) as Dispatcher.RequestOptions['body'];
}

/** The body, decoded as fetch decodes a `content-encoding` it knows; the body itself otherwise. */
function decompressed(body: Readable, encoding: string | null): Readable {
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : undefined;
  if (decoder === undefined) return body;
  body.on('error', (err) => decoder.destroy(err));
  return body.pipe(decoder);
}

/** The next hop's request, as fetch's own redirect handling would build it. */
function redirected(request: RequestInit, status: number, crossOrigin: boolean): RequestInit {
  const method = (request.method ?? 'GET').toUpperCase();
  const toGet = status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
  const headers = new Headers(request.headers);
  if (crossOrigin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
  if (toGet) {
    headers.delete('content-type');
    const { body: _dropped, ...rest } = request;
    return { ...rest, method: 'GET', headers };
  }
  return { ...request, headers };
}

const OPERATOR_BASES = ['open_ai', 'anthropic', 'deepgram'];
const guards = new Map<string, OutboundGuard>();

/** The guard for this environment (one per distinct allow-list and base URLs, so connection pools are shared). */
export function outboundGuard(env: Env): OutboundGuard {
  const bases = OPERATOR_BASES.flatMap((type) => operatorBaseUrl(type, env) ?? []);
  const allowed = env[ALLOWED_HOSTS_VARIABLE] ?? '';
  const key = JSON.stringify([allowed, bases]);
  let guard = guards.get(key);
  if (guard === undefined) {
    guard = new OutboundGuard(parseAllowedHosts(allowed), bases);
    guards.set(key, guard);
  }
  return guard;
}
