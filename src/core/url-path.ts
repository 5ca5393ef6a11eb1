/**
 * `pathname` without its trailing slashes. A loop rather than `replace(/\/+$/, '')`: that regex
 * backtracks at every slash of a path full of them, in time that grows with the square of its length,
 * and a client sends such paths in a request line or an `endpoint.url`.
 */
export function trimTrailingSlashes(pathname: string): string {
  let end = pathname.length;
  while (end > 0 && pathname.charCodeAt(end - 1) === 0x2f) end--;
  return pathname.slice(0, end);
}
