import { z } from "zod";
import { systemClock } from "../clock";
import { ConfigError } from "../errors/config-error";

/** One Ed25519 signing key as stored in the JWT_SIGNING_KEYS secret: a private OKP JWK with a kid. */
export interface PrivateSigningJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  d: string;
  kid: string;
}

/** A public key as published in the JWKS. */
export interface PublicSigningJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

/** The imported JWT_SIGNING_KEYS secret. */
export interface SigningKeySet {
  /** kid of the key that signs new tokens (the first in the secret). */
  currentKid: string;
  /** Private key of `currentKid`. */
  sign: CryptoKey;
  /** kid -> public key, for every key in the set. */
  verify: Map<string, CryptoKey>;
  /** The public halves, in the secret's order, for the JWKS. */
  publicJwks: PublicSigningJwk[];
}

/** At most this many keys in the secret: a few rotations' worth, not a key store. */
export const MAX_SIGNING_KEYS = 10;

const ED25519 = { name: "Ed25519" } as const;

// 32 bytes are 43 base64url characters; the last one carries 4 bits and 2 zero
// padding bits, so only 16 characters can end a canonical encoding.
const KEY_BYTES_B64URL = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

const PrivateJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(KEY_BYTES_B64URL, "must be 32 bytes in base64url (43 characters)"),
  d: z.string().regex(KEY_BYTES_B64URL, "must be 32 bytes in base64url (43 characters)"),
  kid: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/, "must be 1-64 characters of A-Z a-z 0-9 . _ -"),
});

const KeySetSchema = z
  .array(PrivateJwkSchema)
  .min(1, "must hold at least one key")
  .max(MAX_SIGNING_KEYS, `must hold at most ${MAX_SIGNING_KEYS} keys`)
  .superRefine((keys, ctx) => {
    const seen = new Set<string>();
    keys.forEach((key, i) => {
      if (seen.has(key.kid)) ctx.addIssue({ code: "custom", path: [i, "kid"], message: "duplicate kid" });
      seen.add(key.kid);
    });
  });

/**
 * Thrown for a bad JWT_SIGNING_KEYS; its message names what is wrong, never a key. One of the
 * right shape whose pair does not load (x not d's) passes the config check, so the first use
 * reports it, as config_invalid names any bad variable.
 */
export class SigningKeysError extends ConfigError {
  override name = "SigningKeysError";
  readonly variable = "JWT_SIGNING_KEYS";
  readonly detail = "the server's configuration is invalid: JWT_SIGNING_KEYS";
}

function fail(detail: string): never {
  throw new SigningKeysError(`JWT_SIGNING_KEYS ${detail} (generate one with: node scripts/jwt-keys.mjs)`);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("") || "(root)";
}

async function importPair(jwk: PrivateSigningJwk): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    const { kty, crv, x, d } = jwk;
    privateKey = await crypto.subtle.importKey("jwk", { kty, crv, x, d }, ED25519, false, ["sign"]);
    publicKey = await crypto.subtle.importKey("jwk", { kty, crv, x }, ED25519, false, ["verify"]);
  } catch {
    // The runtime's message could quote the input; say which key, never what is in it.
    return fail(`key "${jwk.kid}" is not a usable Ed25519 key`);
  }
  // A JWK whose x does not belong to its d would sign tokens nobody can verify.
  const probe = new TextEncoder().encode(`plinth signing key check ${jwk.kid}`);
  const signature = await crypto.subtle.sign(ED25519, privateKey, probe);
  if (!(await crypto.subtle.verify(ED25519, publicKey, signature, probe))) {
    return fail(`key "${jwk.kid}": x is not the public key of d`);
  }
  return { privateKey, publicKey };
}

/** The key set of the secret, or what is wrong with its shape (never quoting it). */
function parseKeySet(secret: string): { ok: true; keys: PrivateSigningJwk[] } | { ok: false; problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(secret);
  } catch {
    // JSON.parse's message quotes part of the input, which here is key material.
    return { ok: false, problem: "is not valid JSON: expected an array of private Ed25519 JWKs" };
  }
  const parsed = KeySetSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${formatPath(i.path)}: ${i.message}`);
    return { ok: false, problem: `is invalid: ${issues.join("; ")}` };
  }
  return { ok: true, keys: parsed.data };
}

/**
 * What is wrong with the shape of a JWT_SIGNING_KEYS secret (JSON, fields, kids), or
 * undefined: synchronous, for the config check, so a malformed secret fails every request
 * as `config_invalid` rather than the first login or checkpoint. Whether each key is a
 * usable Ed25519 pair is checked when the set is loaded. Never quotes the secret.
 */
export function signingKeysProblem(secret: string): string | undefined {
  const parsed = parseKeySet(secret);
  return parsed.ok ? undefined : `${parsed.problem} (generate one with: node scripts/jwt-keys.mjs)`;
}

async function importKeySet(secret: string): Promise<SigningKeySet> {
  const parsed = parseKeySet(secret);
  if (!parsed.ok) return fail(parsed.problem);
  const verify = new Map<string, CryptoKey>();
  const publicJwks: PublicSigningJwk[] = [];
  let sign: CryptoKey | undefined;
  for (const jwk of parsed.keys) {
    const pair = await importPair(jwk);
    sign ??= pair.privateKey;
    verify.set(jwk.kid, pair.publicKey);
    publicJwks.push({ kty: "OKP", crv: "Ed25519", x: jwk.x, kid: jwk.kid, alg: "EdDSA", use: "sig" });
  }
  const current = parsed.keys[0];
  if (!sign || !current) return fail("must hold at least one key");
  return { currentKid: current.kid, sign, verify, publicJwks };
}

// Per-isolate cache, keyed by the secret's text: importing and checking keys
// costs a few crypto calls, and the secret only changes with a deploy. Bounded
// because tests load many sets in one isolate. It holds loaded sets, never a
// load under way: the cache is shared by every request and object of the
// isolate, and a promise made in one context must not be awaited in another
// (src/kernel/metrics/flush.ts). WebCrypto settles within its caller's turn
// today, so a shared load was never seen to hang; nothing here relies on it.
const MAX_CACHED_SETS = 8;
const cache = new Map<string, SigningKeySet>();

/**
 * Parses the JWT_SIGNING_KEYS secret: a JSON array of {@link PrivateSigningJwk},
 * newest first. The first key signs; every key verifies.
 *
 * Rotation: prepend a new key (or append it first, so verifiers caching the JWKS
 * learn it before it signs, then move it first) and keep the old ones until every
 * token they signed has expired (at least 15 minutes plus leeway), then drop them.
 *
 * Throws a {@link SigningKeysError} whose message never contains key material.
 * The imported set is cached per isolate, per secret string.
 *
 * @example
 * const keys = await loadSigningKeys(c.get("config").jwtSigningKeys);
 * const token = await signAccessToken(keys, { sub, tid, roles }, { issuer });
 */
export async function loadSigningKeys(secret: string): Promise<SigningKeySet> {
  const hit = cache.get(secret);
  if (hit) return hit;
  // A failed load is not kept: the next request retries and reports it again.
  const loaded = await importKeySet(secret);
  // Concurrent first loads each import; the first to finish is kept and the others answer it,
  // so every caller holds the one set (the verified-token cache compares sets by identity).
  const kept = cache.get(secret);
  if (kept) return kept;
  if (cache.size >= MAX_CACHED_SETS) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(secret, loaded);
  return loaded;
}

/** The JWKS document for `/.well-known/jwks.json`: the public keys only, never a `d`. */
export function jwks(keys: SigningKeySet): { keys: SigningKeySet["publicJwks"] } {
  return { keys: keys.publicJwks.map((k) => ({ kty: k.kty, crv: k.crv, x: k.x, kid: k.kid, alg: k.alg, use: k.use })) };
}

/** A kid like `k-20261122-ab12`: the UTC date it was made, and 16 random bits. */
export function newKid(now: Date = systemClock.now()): string {
  const date = now.toISOString().slice(0, 10).replace(/-/g, "");
  const suffix = [...crypto.getRandomValues(new Uint8Array(2))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `k-${date}-${suffix}`;
}

/**
 * Generates a new private signing JWK (for the key script, local dev and tests).
 *
 * @example
 * const secret = JSON.stringify([await generateSigningJwk()]);
 */
export async function generateSigningJwk(kid: string = newKid()): Promise<PrivateSigningJwk> {
  const pair = await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"]);
  if (!("privateKey" in pair)) throw new Error("Ed25519 key generation did not return a key pair");
  const exported = await crypto.subtle.exportKey("jwk", pair.privateKey);
  if (exported instanceof ArrayBuffer || typeof exported.x !== "string" || typeof exported.d !== "string") {
    throw new Error("Ed25519 key export did not return a private JWK");
  }
  const jwk: PrivateSigningJwk = { kty: "OKP", crv: "Ed25519", x: exported.x, d: exported.d, kid };
  // Fail here, not at the first login, when a caller passes a kid the loader refuses.
  const checked = PrivateJwkSchema.safeParse(jwk);
  if (!checked.success) throw new Error(`invalid kid for a signing key: ${checked.error.issues[0]?.message ?? ""}`);
  return jwk;
}
