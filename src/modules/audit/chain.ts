import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { AuditFacts } from "../../kernel/events/envelope";
import { canonicalize } from "./jcs.mjs";

/** One link of a tenant's audit chain, as stored, exported and verified. */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: { kind: string; id: string | null };
  action: string;
  target: string | null;
  request_id: string | null;
  ip_hash: string | null;
  /**
   * What the event's writer chose to record beyond actor and target (e.g. the
   * permission or rule an `authz.denied` refused, and its route). Absent, not
   * null, when there is none, so entries written before it existed hash as
   * they always did.
   */
  detail?: AuditFacts;
  prev_hash: string;
  hash: string;
}

/**
 * A signed statement that the chain reached `hash` at `seq`, as of `signed_at`. `v: 2` (every
 * checkpoint signed now) signs all four; without `v` it is a version 1 checkpoint, stored before
 * versions existed, whose signature covers the seq and hash but not `signed_at`.
 */
export interface AuditCheckpoint {
  v?: typeof CHECKPOINT_V2;
  seq: number;
  hash: string;
  signed_at: string;
  kid: string;
  signature: string;
}

/** The version every new checkpoint is signed in. */
export const CHECKPOINT_V2 = 2 as const;

/**
 * What a version 2 message starts with (domain separation). A version 1 message that was signed
 * starts with a tenant id (a ULID, `newId`: no `/`) and ends with a 64-hex chain hash; a version 2
 * one starts with this prefix and ends with an ISO time (`…Z`). So no signed message of one version
 * is a message of the other, and a signature never verifies under the other version.
 */
export const CHECKPOINT_V2_PREFIX = "plinth-audit-checkpoint/v2:";

/** The `prev_hash` of entry 1. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * SHA-256 (lowercase hex) of the JCS form of the entry without its `hash`.
 * Synchronous on purpose: the AuditLog appends without yielding, so no other
 * request can interleave between reading the last hash and writing the next.
 */
export function entryHash(entry: Omit<AuditEntry, "hash"> & { hash?: string }): string {
  const { hash: _hash, ...rest } = entry;
  return bytesToHex(sha256(new TextEncoder().encode(canonicalize(rest))));
}

/**
 * The UTF-8 string a checkpoint signs. Version 2 (`v: 2`, every checkpoint signed now, seq 0 an
 * empty log's included): `plinth-audit-checkpoint/v2:<tenant_id>:<seq>:<hash>:<signed_at>`, so its
 * time is vouched for and an auditor can bound how fresh an export is. Version 1 (no `v`, rows
 * stored before versions existed): `<tenant_id>:<seq>:<hash>`, which they keep so they still verify;
 * their `signed_at` is not signed. Presenting a checkpoint as the other version (adding or removing
 * `v`) changes the message, so its signature no longer verifies.
 */
export const checkpointMessage = (tenantId: string, cp: Pick<AuditCheckpoint, "v" | "seq" | "hash" | "signed_at">) =>
  cp.v === CHECKPOINT_V2
    ? `${CHECKPOINT_V2_PREFIX}${tenantId}:${cp.seq}:${cp.hash}:${cp.signed_at}`
    : `${tenantId}:${cp.seq}:${cp.hash}`;

/**
 * Walks a chain from `start` (default: before seq 1): each entry must have the next seq, link to the
 * previous hash and hash to its own `hash`. Returns the first seq that breaks
 * it (the expected seq where an entry is missing or out of place), or null.
 * Pure: the DO's verify and the tests use it; the CLI walks exports likewise
 * (scripts/lib/audit-chain.mjs), with the same canonicaliser.
 */
export function firstBroken(
  entries: readonly AuditEntry[],
  start: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
): number | null {
  let prev = start.hash;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const expectedSeq = start.seq + i + 1;
    if (!e || e.seq !== expectedSeq || e.prev_hash !== prev) return expectedSeq;
    if (entryHash(e) !== e.hash) return expectedSeq;
    prev = e.hash;
  }
  return null;
}
