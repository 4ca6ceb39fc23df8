/** A socket or TLS error in one line: its message (OpenSSL's end with a newline), with its code when the message lacks it. */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const message = e.message.trim();
    return code && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(e);
}
