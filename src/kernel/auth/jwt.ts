import { base64url, errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { systemClock } from "../clock";
import type { SigningKeySet } from "./signing-keys";

export type { PrivateSigningJwk, PublicSigningJwk, SigningKeySet } from "./signing-keys";
export { generateSigningJwk, jwks, loadSigningKeys, SigningKeysError } from "./signing-keys";

/** The claims of a plinth access token (see the Auth part of the contract). */
export interface AccessClaims {
  iss: string;
  aud: "plinth";
  /** User id. */
  sub: string;
  /** Tenant id. */
  tid: string;
  /** Informational: authorization always reads the user's current roles. */
  roles: string[];
  /** The refresh-token family (session) the token was issued from, when there is one. */
  sid?: string;
  iat: number;
  exp: number;
  jti: string;
}

/** Lifetime of an access token: `exp` is `iat` plus this. */
export const ACCESS_TOKEN_TTL_SECONDS = 900;

/** The `aud` of every access token. */
export const ACCESS_TOKEN_AUDIENCE = "plinth";

/** Clock skew tolerated on `exp` and `iat` unless the caller says otherwise. */
export const DEFAULT_LEEWAY_SECONDS = 30;

/** Why a token was refused. All of them answer 401; the reason is for logs and tests. */
export type VerifyFailure = "malformed" | "expired" | "invalid";

/** The outcome of {@link verifyAccessToken}. */
export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; reason: VerifyFailure };

// Ours are ~500 bytes; refusing huge inputs early bounds the work an attacker can ask for.
const MAX_TOKEN_LENGTH = 8192;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const SIGNATURE_SEGMENT = /^[A-Za-z0-9_-]*$/;

const HeaderSchema = z.object({
  alg: z.literal("EdDSA"),
  kid: z.string().min(1),
  typ: z.literal("JWT").optional(),
});

const ClaimsSchema = z.object({
  iss: z.string(),
  aud: z.literal(ACCESS_TOKEN_AUDIENCE),
  sub: z.string().min(1),
  tid: z.string().min(1),
  roles: z.array(z.string()),
  sid: z.string().min(1).optional(),
  iat: z.number(),
  exp: z.number(),
  jti: z.string().min(1),
});

// fatal: bytes that are not UTF-8 make a malformed token, not replacement characters.
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const MALFORMED: VerifyResult = { ok: false, reason: "malformed" };
const INVALID: VerifyResult = { ok: false, reason: "invalid" };

/**
 * Signs an access token: header `{ alg: "EdDSA", typ: "JWT", kid }` with the
 * current key; `iat` is `now` in seconds, `exp` is `iat + 900`, `jti` random.
 *
 * @example
 * const token = await signAccessToken(keys, { sub: user.id, tid: tenant.id, roles }, { issuer });
 */
export async function signAccessToken(
  keys: SigningKeySet,
  subject: { sub: string; tid: string; roles: string[]; sid?: string },
  options: { issuer: string; now?: number },
): Promise<string> {
  // verifyAccessToken refuses these, so a token made with them would be a silent lock-out.
  if (subject.sub === "" || subject.tid === "" || subject.sid === "") {
    throw new Error("signAccessToken: sub, tid and sid must not be empty");
  }
  const iat = Math.floor((options.now ?? systemClock.now().getTime()) / 1000);
  const claims: AccessClaims = {
    iss: options.issuer,
    aud: ACCESS_TOKEN_AUDIENCE,
    sub: subject.sub,
    tid: subject.tid,
    roles: [...subject.roles],
    ...(subject.sid === undefined ? {} : { sid: subject.sid }),
    iat,
    exp: iat + ACCESS_TOKEN_TTL_SECONDS,
    jti: crypto.randomUUID(),
  };
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: keys.currentKid })
    .sign(keys.sign);
}

function decodeJsonObject(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(UTF8.decode(base64url.decode(segment)));
    if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
    return value as Record<string, unknown>;
  } catch {
    return null;
  }
}

async function verify(
  keys: SigningKeySet,
  token: string,
  options: { issuer: string; now?: number; leewaySeconds?: number },
): Promise<VerifyResult> {
  if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return MALFORMED;
  const [head, body, signature, ...rest] = token.split(".");
  if (head === undefined || body === undefined || signature === undefined || rest.length > 0) return MALFORMED;
  if (!SEGMENT.test(head) || !SEGMENT.test(body) || !SIGNATURE_SEGMENT.test(signature)) return MALFORMED;
  const header = decodeJsonObject(head);
  if (header === null || decodeJsonObject(body) === null) return MALFORMED;

  // The algorithm is ours to choose, never the token's: only EdDSA, only with a
  // key from our set, picked by kid. This is what defeats `alg: none` and HMAC
  // keyed with the public key.
  const pinned = HeaderSchema.safeParse(header);
  if (!pinned.success) return INVALID;
  const key = keys.verify.get(pinned.data.kid);
  if (key === undefined) return INVALID;

  const nowMs = options.now ?? systemClock.now().getTime();
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["EdDSA"],
      audience: ACCESS_TOKEN_AUDIENCE,
      issuer: options.issuer,
      currentDate: new Date(nowMs),
      clockTolerance: leeway,
      requiredClaims: ["sub", "tid", "roles", "iat", "exp", "jti"],
    }));
  } catch (error) {
    // jose checks the signature before any claim, so "expired" is only said of a token we signed.
    return error instanceof errors.JWTExpired ? { ok: false, reason: "expired" } : INVALID;
  }
  const claims = ClaimsSchema.safeParse(payload);
  if (!claims.success) return INVALID;
  // jose checks iat only with maxTokenAge; a token from the future is a forged or broken one.
  if (claims.data.iat > Math.floor(nowMs / 1000) + leeway) return INVALID;
  // Nor does plinth sign a life longer than the TTL: a token that claims one is refused, so
  // shortening the TTL bounds every token at once and no token outlives it.
  if (claims.data.exp - claims.data.iat > ACCESS_TOKEN_TTL_SECONDS) return INVALID;
  return { ok: true, claims: claims.data };
}

/**
 * Verifies an access token. Pins `alg: EdDSA` (refusing `none`, HMAC, RSA and
 * ECDSA), accepts `typ: JWT` or none, needs a `kid` from the set, `aud:
 * "plinth"`, `iss === issuer`, a live `exp` (with `leewaySeconds`, default 30),
 * an `iat` not in the future, an `exp` at most the TTL after `iat`, and
 * well-typed `sub`, `tid`, `roles`, `jti`.
 *
 * Never throws: a token that cannot be parsed is `malformed`, a signed token
 * past its `exp` is `expired`, anything else refused is `invalid`.
 *
 * @example
 * const result = await verifyAccessToken(keys, bearer, { issuer });
 * if (!result.ok) return null; // 401 unauthenticated
 */
export async function verifyAccessToken(
  keys: SigningKeySet,
  token: string,
  options: { issuer: string; now?: number; leewaySeconds?: number },
): Promise<VerifyResult> {
  try {
    return await verify(keys, token, options);
  } catch {
    // Unreachable by design; a verifier that throws would turn a bad token into a 500.
    return INVALID;
  }
}
