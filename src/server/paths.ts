/**
 * `pathname` without its trailing slashes. A loop rather than `replace(/\/+$/, '')`: that regex
 * backtracks at every slash of a path full of them, which a client can send in the request line
 * (16 kB of slashes held the event loop about 90 ms).
 */
export function trimTrailingSlashes(pathname: string): string {
  let end = pathname.length;
  while (end > 0 && pathname.charCodeAt(end - 1) === 0x2f) end--;
  return pathname.slice(0, end);
}
