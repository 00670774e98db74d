import { parseMasterKeys } from "../../kernel/crypto/envelope";
import { base64UrlDecode, base64UrlEncode } from "../../kernel/crypto/tokens";

/**
 * Signed download URLs: `?tenant=<id>&exp=<unix s>&kv=<key version>&sig=<mac>`,
 * where `sig` is HMAC-SHA256 over `files-url/v1`, the tenant id, the file id
 * and `exp`, under a key derived per tenant from the platform's master key
 * `kv` (ENCRYPTION_KEYS) with HKDF-SHA256. Verifying needs nothing but the
 * URL and the master keys: no D1, no Durable Object. A URL changed in any of
 * these (another file, another tenant, a later expiry) does not verify; one
 * signed before a master-key rotation verifies while its key version is still
 * listed.
 */

const encoder = new TextEncoder();
const SALT = encoder.encode("plinth/files/signed-url");

/** The query parameters of a signed download URL. */
export interface SignedQuery {
  tenant: string;
  exp: number;
  kv: number;
  sig: string;
}

async function urlKey(master: Uint8Array, tenantId: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", master, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: SALT, info: encoder.encode(`files-url:${tenantId}`) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

const signed = (tenantId: string, fileId: string, exp: number) =>
  encoder.encode(`files-url/v1\n${tenantId}\n${fileId}\n${exp}`);

/**
 * Signs a download of `fileId` of `tenantId` until `exp` (unix seconds) with
 * the newest master key of `masterKeys` (the ENCRYPTION_KEYS secret).
 *
 * @example
 * const q = await signDownload(config.encryptionKeys, tenant.id, id, exp);
 * `/api/v1/files/${id}/download?${new URLSearchParams({ ...q, exp: String(q.exp), kv: String(q.kv) })}`;
 */
export async function signDownload(
  masterKeys: string,
  tenantId: string,
  fileId: string,
  exp: number,
): Promise<SignedQuery> {
  const masters = parseMasterKeys(masterKeys);
  const master = masters.keys.get(masters.current);
  if (!master) throw new Error("ENCRYPTION_KEYS has no current key");
  const key = await urlKey(master, tenantId);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, signed(tenantId, fileId, exp)));
  return { tenant: tenantId, exp, kv: masters.current, sig: base64UrlEncode(mac) };
}

/**
 * Whether a signed URL's query lets its holder download `fileId` at `now`:
 * `invalid` unless the MAC verifies (compared in constant time by WebCrypto),
 * else `expired` from the instant `exp` names on (to the millisecond: compared
 * in whole seconds, a URL lived up to a second past the `expires_at` the API
 * had answered), else `ok`. The signature is checked first, so an altered URL
 * never learns about expiry.
 */
export async function verifyDownload(
  masterKeys: string,
  fileId: string,
  query: SignedQuery,
  now: Date,
): Promise<"ok" | "invalid" | "expired"> {
  const master = parseMasterKeys(masterKeys).keys.get(query.kv);
  if (!master) return "invalid";
  let mac: Uint8Array;
  try {
    mac = base64UrlDecode(query.sig);
  } catch {
    return "invalid";
  }
  if (mac.length !== 32) return "invalid";
  const key = await urlKey(master, query.tenant);
  const valid = await crypto.subtle.verify("HMAC", key, mac, signed(query.tenant, fileId, query.exp));
  if (!valid) return "invalid";
  return now.getTime() >= query.exp * 1000 ? "expired" : "ok";
}
