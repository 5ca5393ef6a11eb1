import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { forbiddenRange, OutboundGuard, OutboundRefused, outboundGuard, parseAllowedHosts } from '../../src/providers/outbound.js';

/** A real HTTP server on 127.0.0.1 that records every request it gets. */
class RecordingServer {
  readonly requests: { url: string; headers: IncomingMessage['headers'] }[] = [];
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('inside');
  private constructor(private readonly server: Server) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.requests.push({ url: req.url ?? '', headers: req.headers });
      this.handler(req, res);
    });
  }
  static async start(): Promise<RecordingServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new RecordingServer(server);
  }
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const guard = (allowed = ''): OutboundGuard => new OutboundGuard(parseAllowedHosts(allowed));

/** Every way a URL can name an address a client must not reach, with the range it is in. */
const FORBIDDEN_FORMS: [string, RegExp][] = [
  ['http://127.0.0.1/', /loopback/],
  ['http://localhost/', /loopback/],
  ['http://api.localhost/', /loopback/],
  ['http://127.1/', /loopback/],
  ['http://2130706433/', /loopback/],
  ['http://0x7f.1/', /loopback/],
  ['http://0x7f000001/', /loopback/],
  ['http://0177.0.0.1/', /loopback/],
  ['http://[::1]/', /loopback/],
  ['http://[::ffff:127.0.0.1]/', /loopback/],
  ['http://[::ffff:7f00:1]/', /loopback/],
  ['http://[0:0:0:0:0:ffff:7f00:1]/', /loopback/],
  ['http://0.0.0.0/', /unspecified/],
  ['http://0/', /unspecified/],
  ['http://[::]/', /unspecified/],
  ['http://169.254.169.254/latest/meta-data/', /link-local/],
  ['http://[::ffff:169.254.169.254]/', /link-local/],
  ['http://[fd00:ec2::254]/', /unique local/],
  ['http://[fe80::1]/', /link-local/],
  ['http://10.0.0.1/', /private/],
  ['http://172.16.0.1/', /private/],
  ['http://172.31.255.255/', /private/],
  ['http://192.168.1.1/', /private/],
  ['http://100.64.0.1/', /CGNAT/],
  ['http://[fc00::1]/', /unique local/],
  ['http://224.0.0.1/', /multicast/],
  ['http://[ff02::1]/', /multicast/],
  ['http://255.255.255.255/', /broadcast/],
  ['http://[64:ff9b::7f00:1]/', /NAT64/],
  ['http://[2002:7f00:1::]/', /6to4/],
  ['ws://127.0.0.1:9/', /loopback/],
  ['wss://[::1]/', /loopback/],
];

describe('outbound guard: addresses as written', () => {
  for (const [url, range] of FORBIDDEN_FORMS) {
    it(`refuses ${url}`, () => {
      const refusal = guard().refusalOf(url);
      assert.ok(refusal !== undefined, `${url} was let through`);
      assert.match(refusal, range);
      assert.match(refusal, /PARLEY_ALLOWED_HOSTS=/, 'the refusal names the variable that would allow it');
    });
  }

  it('lets public addresses and names through (names are checked on their resolved address)', () => {
    for (const url of ['https://api.openai.com/v1', 'http://8.8.8.8/', 'http://[2606:4700::1111]/', 'https://172.32.0.1/', 'http://example.com:8080/x']) {
      assert.equal(guard().refusalOf(url), undefined, url);
    }
  });

  it('refuses schemes other than http(s) and ws(s)', () => {
    assert.match(guard().refusalOf('file:///etc/passwd') ?? '', /file: URLs are not supported/);
    assert.match(guard().refusalOf('gopher://example.com/') ?? '', /not supported/);
  });

  it('allows what the operator listed: a name, a name with its port, a range, an address', () => {
    assert.equal(guard('localhost:11434').refusalOf('http://localhost:11434/v1'), undefined);
    assert.ok(guard('localhost:11434').refusalOf('http://localhost:11435/v1') !== undefined, 'only that port');
    assert.equal(guard('localhost').refusalOf('http://localhost:1/'), undefined);
    assert.equal(guard('10.0.0.0/8').refusalOf('http://10.1.2.3/'), undefined);
    assert.ok(guard('10.0.0.0/8').refusalOf('http://11.0.0.1/') === undefined, 'public anyway');
    assert.ok(guard('10.0.0.0/8').refusalOf('http://192.168.0.1/') !== undefined);
    assert.equal(guard('169.254.169.254').refusalOf('http://169.254.169.254/'), undefined);
    assert.equal(guard('[::1]:8080').refusalOf('http://[::1]:8080/'), undefined);
    assert.equal(guard('fd00::/8').refusalOf('http://[fd00:ec2::254]/'), undefined);
  });

  it('refuses a malformed allow-list entry with a readable message', () => {
    for (const bad of ['http://x', '10.0.0.0/33', 'host:99999', 'a b']) {
      assert.throws(() => parseAllowedHosts(bad), /PARLEY_ALLOWED_HOSTS: ".*" is not a host, host:port, address or CIDR range/, bad);
    }
  });

  it('trusts the base URLs the operator set, and nothing else on that host', () => {
    const env = { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' };
    assert.equal(outboundGuard(env).refusalOf('http://127.0.0.1:11434/v1/chat/completions'), undefined);
    assert.ok(outboundGuard(env).refusalOf('http://127.0.0.1:11435/') !== undefined);
  });

  it('classifies addresses: IPv4-mapped IPv6 counts as its IPv4 address', () => {
    assert.equal(forbiddenRange('::ffff:10.0.0.1'), 'private (RFC 1918)');
    assert.equal(forbiddenRange('93.184.216.34'), undefined);
  });
});

describe('outbound guard: requests', () => {
  let inside: RecordingServer;
  before(async () => {
    inside = await RecordingServer.start();
  });
  after(() => inside.close());

  it('a loopback URL is refused before any request is made, and reached once allow-listed', async () => {
    const before = inside.requests.length;
    await assert.rejects(guard().fetch(`http://127.0.0.1:${inside.port}/secret`), OutboundRefused);
    await assert.rejects(guard().fetch(`http://2130706433:${inside.port}/secret`), OutboundRefused);
    assert.equal(inside.requests.length, before, 'nothing reached the inside server');
    const allowed = guard(`127.0.0.1:${inside.port}`);
    assert.equal(await (await allowed.fetch(`http://127.0.0.1:${inside.port}/ok`)).text(), 'inside');
    const ranged = guard('127.0.0.0/8');
    assert.equal(await (await ranged.fetch(`http://0x7f.1:${inside.port}/ok`)).text(), 'inside');
    assert.deepEqual(inside.requests.slice(before).map((r) => r.url), ['/ok', '/ok']);
  });

  it('a name that resolves inside is refused on its resolved address (the check runs in the lookup the connection uses)', async () => {
    // This machine's own name resolves to loopback or a private address (/etc/hosts).
    const name = hostname();
    const before = inside.requests.length;
    await assert.rejects(guard().fetch(`http://${name}:${inside.port}/secret`), (err: Error) => {
      assert.ok(err instanceof OutboundRefused, `${err.name}: ${err.message}`);
      assert.match(err.message, new RegExp(`${name} resolves to [0-9a-f.:]+, in the (loopback|private|link-local)`));
      assert.match(err.message, /PARLEY_ALLOWED_HOSTS=/);
      return true;
    });
    assert.equal(inside.requests.length, before);
  });

  it('every redirect is checked: a redirect to loopback is refused, credentials do not follow to another origin', async () => {
    const target = await RecordingServer.start();
    try {
      inside.handler = (req, res) => {
        const to = req.url === '/to-target' ? `http://127.0.0.1:${target.port}/landed` : `http://127.0.0.1:${target.port}/secret`;
        res.writeHead(302, { location: to }).end();
      };
      const entry = guard(`127.0.0.1:${inside.port}`);
      await assert.rejects(entry.fetch(`http://127.0.0.1:${inside.port}/redirect`), (err: Error) => {
        assert.ok(err instanceof OutboundRefused);
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${target.port} is in the loopback`));
        return true;
      });
      assert.equal(target.requests.length, 0, 'the redirect target was never requested');

      const both = guard(`127.0.0.1:${inside.port},127.0.0.1:${target.port}`);
      const response = await both.fetch(`http://127.0.0.1:${inside.port}/to-target`, { method: 'POST', body: '{}', headers: { authorization: 'Bearer client', 'x-other': '1' } });
      assert.equal(await response.text(), 'inside');
      assert.equal(target.requests.at(-1)?.headers['authorization'], undefined, 'credentials stay on their origin');
      assert.equal(target.requests.at(-1)?.headers['x-other'], '1');
    } finally {
      inside.handler = (_req, res) => res.end('inside');
      await target.close();
    }
  });

  it('an error body is cut before any SDK reads it whole', async () => {
    inside.handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = (): void => {
        while (sent < 200 && res.write(chunk)) sent++;
        if (sent >= 200 || res.destroyed) res.end();
        else res.once('drain', pump);
      };
      pump();
    };
    try {
      const response = await guard(`127.0.0.1:${inside.port}`).fetch(`http://127.0.0.1:${inside.port}/huge-error`);
      assert.equal(response.status, 500);
      assert.equal((await response.text()).length, 64 * 1024);
    } finally {
      inside.handler = (_req, res) => res.end('inside');
    }
  });

  it('a gzip answer reaches the SDKs decoded, as fetch gives it; a request with a body goes out whole', async () => {
    let received = '';
    inside.handler = (req, res) => {
      req.setEncoding('utf8');
      req.on('data', (part: string) => (received += part));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync('{"text":"hello"}')));
    };
    try {
      const response = await guard(`127.0.0.1:${inside.port}`).fetch(`http://127.0.0.1:${inside.port}/zipped`, { method: 'POST', body: '{"q":1}', headers: new Headers({ 'content-type': 'application/json' }) });
      assert.deepEqual(await response.json(), { text: 'hello' });
      assert.equal(response.headers.get('content-encoding'), null);
      assert.equal(received, '{"q":1}');
      assert.equal(inside.requests.at(-1)?.headers['content-type'], 'application/json');
    } finally {
      inside.handler = (_req, res) => res.end('inside');
    }
  });

  it('request streams the body as it comes, and an error body arrives cut', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    inside.handler = (req, res) => {
      if (req.url === '/error') {
        res.writeHead(502).end(Buffer.alloc(200 * 1024, 'y'));
        return;
      }
      res.write('first ');
      void released.then(() => res.end('second'));
    };
    try {
      const allowed = guard(`127.0.0.1:${inside.port}`);
      const answer = await allowed.request(`http://127.0.0.1:${inside.port}/stream`);
      assert.equal(answer.status, 200);
      const parts = (answer.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      // The first part is read before the server sends the rest.
      assert.equal(String((await parts.next()).value), 'first ');
      release();
      let rest = '';
      for (let part = await parts.next(); part.done !== true; part = await parts.next()) rest += String(part.value);
      assert.equal(rest, 'second');
      const failed = await allowed.request(`http://127.0.0.1:${inside.port}/error`);
      assert.equal(failed.status, 502);
      assert.equal(Buffer.concat(await failed.body.toArray()).length, 64 * 1024);
    } finally {
      release();
      inside.handler = (_req, res) => res.end('inside');
    }
  });

  it('WebSocket connections get the same check (literal and resolved)', async () => {
    assert.throws(() => guard().socketOptions(`ws://127.0.0.1:${inside.port}/`), OutboundRefused);
    const options = guard().socketOptions(`ws://${hostname()}:${inside.port}/`);
    const error = await new Promise<Error>((resolve) => {
      const socket = new WebSocket(`ws://${hostname()}:${inside.port}/`, options);
      socket.on('error', resolve);
    });
    assert.ok(error instanceof OutboundRefused, error.message);
  });
});
