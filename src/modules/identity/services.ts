import type { Context } from "hono";
import type { Principal } from "../../kernel/auth/types";
import { isoNow } from "../../kernel/clock";
import { createArgon2idHasher, normalisedPasswords, randomToken, sha256Hex } from "../../kernel/crypto";
import type { AppEnv } from "../../kernel/env";
import type { Actor } from "../../kernel/events/envelope";
import { clientIpHash } from "../../kernel/http/client-ip";
import type { Ctx } from "./directory/types";

/**
 * Argon2id with OWASP parameters (19 MiB, t=2, p=1), from the WASM core, over the NFC form of
 * each password: the same passphrase typed composed or decomposed is the same password.
 */
export const hasher = normalisedPasswords(createArgon2idHasher());

/** The outbox actor for a principal. */
export function actorOf(principal: Principal | undefined): Actor {
  if (!principal) return { kind: "anonymous", id: null };
  return { kind: principal.kind, id: principal.id };
}

/** The directory call context of a request: now, actor, request id, client IP hash. */
export function ctxOf(c: Context<AppEnv>, actor: Actor = actorOf(c.get("principal"))): Ctx {
  return { now: isoNow(c.get("clock")), actor, requestId: c.get("requestId"), ipHash: clientIpHash(c) };
}

const ENV_TAG: Record<string, string> = { development: "dev", test: "test", staging: "stg", production: "live" };

/**
 * A new API key: `plk_<env>_<43 chars>` (256 random bits). The prefix shown
 * in listings is the first 8 random characters; only the SHA-256 is stored.
 */
export async function newApiKey(environment: string): Promise<{ key: string; prefix: string; hash: string }> {
  const secret = randomToken(32);
  const key = `plk_${ENV_TAG[environment] ?? "dev"}_${secret}`;
  return { key, prefix: key.slice(0, key.length - secret.length + 8), hash: await sha256Hex(key) };
}

/** A new opaque secret (refresh, verification or reset token) and its stored hash. */
export async function newSecret(tag: string): Promise<{ token: string; hash: string }> {
  const token = `${tag}_${randomToken(32)}`;
  return { token, hash: await sha256Hex(token) };
}

/** Lower-cases and trims an email: the directory's unique key. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();
