import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
};

/** Serves the built web page; false when the request is not for a file under `root`. */
export async function serveStatic(root: string, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
  } catch {
    // A malformed escape (`/%E0`) names no file: the caller answers 404.
    return false;
  }
  const relative = normalize(pathname === '/' ? '/index.html' : pathname);
  let file = join(root, relative);
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) return false;
  let info = await stat(file).catch(() => undefined);
  if (info === undefined && relative === `${sep}favicon.ico`) {
    // Browsers and tools ask for /favicon.ico whatever the page links; the page's icon is an SVG.
    file = join(root, 'favicon.svg');
    info = await stat(file).catch(() => undefined);
  }
  if (info === undefined || !info.isFile()) return false;
  response.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'no-cache',
  });
  if (request.method === 'HEAD') {
    response.end();
    return true;
  }
  createReadStream(file).pipe(response);
  return true;
}
