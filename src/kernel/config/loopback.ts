/** The hosts a plain-http (or ws, or `?tls=0`) URL may name: this machine. */
export const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/**
 * Whether `value` is an https URL, or an http one to a loopback host: a request that carries
 * a secret (an API key, a collector's headers) goes in the clear only to this machine. A value
 * that is no URL passes here: zod runs refinements after a failed `z.url()` too, and that
 * check's message speaks for it (a `new URL` throwing here would escape the parse).
 *
 * @example
 * tlsOrLoopback("http://127.0.0.1:8025/send"); // true
 * tlsOrLoopback("http://mail.example.com/send"); // false
 */
export function tlsOrLoopback(value: string): boolean {
  const url = parsedUrl(value);
  return url === null || url.protocol === "https:" || LOOPBACK_HOST.test(url.hostname);
}

/** Whether `value` carries no user name or password (true for a value that is no URL, as above). */
export function withoutUserInfo(value: string): boolean {
  const url = parsedUrl(value);
  return url === null || (url.username === "" && url.password === "");
}

function parsedUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}
