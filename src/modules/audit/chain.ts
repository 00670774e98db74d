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

/** A signed statement that the chain reached `hash` at `seq`. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  signed_at: string;
  kid: string;
  signature: string;
}

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
 * The UTF-8 string a checkpoint signs: `<tenant_id>:<seq>:<hash>`, and for seq 0 (an empty
 * log's, signed afresh at each export) `<tenant_id>:0:<genesis>:<signed_at>`. "Empty" is true
 * only as of a time: without it, a seq-0 checkpoint signed before the first entry would vouch
 * for an empty log for ever, and a grown log's export could be handed over as that one line.
 * Seq > 0 keeps its format: such checkpoints exist, and a later one supersedes nothing they say.
 */
export const checkpointMessage = (tenantId: string, cp: Pick<AuditCheckpoint, "seq" | "hash" | "signed_at">) =>
  cp.seq === 0 ? `${tenantId}:0:${cp.hash}:${cp.signed_at}` : `${tenantId}:${cp.seq}:${cp.hash}`;

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
