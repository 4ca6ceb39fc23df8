/** `host:port`, an IPv6 address in brackets (`[::1]:5432`), as in log lines and messages. */
export function fmtHostPort(host: string, port: number | string): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
