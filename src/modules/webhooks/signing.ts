/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, spec 1.0.0, symmetric
 * scheme): HMAC-SHA256 over `${msgId}.${timestamp}.${body}` with the endpoint's secret,
 * sent as `v1,<base64>` in `webhook-signature`, one entry per live secret so a
 * receiver keeps verifying while its secret is rotated.
 */

const PREFIX = "whsec_";
const SECRET_BYTES = 32;
// The spec's bounds for a symmetric secret: 192 to 512 bits.
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const encoder = new TextEncoder();

/**
 * A fresh signing secret: `whsec_` and the base64 of 32 random bytes, the form receivers'
 * Standard Webhooks libraries accept as is.
 *
 * @example
 * newSigningSecret(); // "whsec_" + 44 base64 characters
 */
export function newSigningSecret(): string {
  return PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/**
 * The HMAC key a secret stands for (the bytes after `whsec_`). Throws a `RangeError` for
 * anything else: no prefix, not padded base64, or outside 24–64 bytes.
 *
 * @example
 * signingKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); // Uint8Array(24)
 */
export function signingKey(secret: string): Uint8Array {
  const encoded = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : null;
  if (encoded === null || encoded.length === 0 || !BASE64.test(encoded)) {
    throw new RangeError("a webhook signing secret is whsec_ followed by base64");
  }
  const key = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new RangeError(`a webhook signing secret holds ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes`);
  }
  return key;
}

/**
 * The `webhook-signature` header: a space-separated `v1,<signature>` for each secret,
 * in the order given (current first, then the previous one while it is still honoured).
 * Throws a `RangeError` for no secrets, a malformed secret, an id that is empty or holds
 * a `.` or whitespace (the spec forbids the `.`: it would make the signed content
 * ambiguous), or a timestamp that is not whole seconds.
 *
 * @example
 * await signatureHeader([current, previous], "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", 1674087231, body);
 * // "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,…"
 */
export async function signatureHeader(
  secrets: readonly string[],
  msgId: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  if (secrets.length === 0) throw new RangeError("signing needs at least one secret");
  if (msgId === "" || /[.\s]/.test(msgId)) throw new RangeError("a webhook id must be non-empty, without . or spaces");
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError("a webhook timestamp is whole seconds since the epoch");
  }
  const content = encoder.encode(`${msgId}.${timestampSeconds}.${body}`);
  const signatures = await Promise.all(
    secrets.map(async (secret) => {
      const key = await crypto.subtle.importKey("raw", signingKey(secret), { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
      ]);
      return `v1,${toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, content)))}`;
    }),
  );
  return signatures.join(" ");
}

/**
 * Every header a Standard Webhooks delivery carries: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature` and `content-type: application/json`. `body` must be sent
 * byte for byte as signed.
 *
 * @example
 * const headers = await webhookHeaders(secrets, message.id, Math.floor(now / 1000), body);
 * await safeFetch(endpoint.url, { method: "POST", headers, body, timeoutMs, maxResponseBytes }, deps);
 */
export async function webhookHeaders(
  secrets: readonly string[],
  msgId: string,
  timestampSeconds: number,
  body: string,
): Promise<Record<string, string>> {
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": await signatureHeader(secrets, msgId, timestampSeconds, body),
    "content-type": "application/json",
  };
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
