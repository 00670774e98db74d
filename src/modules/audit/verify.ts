import type { Signer } from "../../kernel/crypto/signer";
import { type AuditCheckpoint, type AuditEntry, checkpointMessage, firstBroken, GENESIS_HASH } from "./chain";

/** What {@link verifyChain} found: the first seq at fault (null when none) and the chain's end. */
export interface ChainReport {
  broken: number | null;
  last: { seq: number; hash: string };
}

/**
 * Recomputes a tenant's whole chain, page by page, and checks every checkpoint:
 * its hash must be the chain's at its seq and its signature must verify with
 * the key it names. `broken` is the first seq at fault: an entry that does not
 * hash, link or follow, or a checkpoint that the chain or its signature
 * contradicts (so a chain cut short below a checkpoint is caught there).
 * Pure but for the signature check; the AuditLog DO's `verify` runs it.
 *
 * @example
 * const { broken } = await verifyChain({ tenantId, page: (from, n) => store.entries(from, n), checkpoints, signer });
 */
export async function verifyChain(input: {
  tenantId: string;
  page: (fromSeq: number, limit: number) => readonly AuditEntry[];
  checkpoints: readonly AuditCheckpoint[];
  signer: Pick<Signer, "verify">;
  pageSize?: number;
}): Promise<ChainReport> {
  const pageSize = input.pageSize ?? 500;
  const wanted = new Set(input.checkpoints.map((c) => c.seq));
  // Seq 0 is the head before entry 1: what an empty log's export signed.
  const hashAt = new Map<number, string>([[0, GENESIS_HASH]]);
  let last = { seq: 0, hash: GENESIS_HASH };
  let broken: number | null = null;
  for (let from = 1; broken === null; from += pageSize) {
    const page = input.page(from, pageSize);
    if (page.length === 0) break;
    broken = firstBroken(page, last);
    for (const e of page) if (wanted.has(e.seq)) hashAt.set(e.seq, e.hash);
    const tail = page.at(-1);
    if (tail) last = { seq: tail.seq, hash: tail.hash };
  }
  for (const cp of input.checkpoints) {
    if (broken !== null && cp.seq >= broken) break;
    const message = new TextEncoder().encode(checkpointMessage(input.tenantId, cp));
    const valid = hashAt.get(cp.seq) === cp.hash && (await input.signer.verify(cp.kid, message, cp.signature));
    if (!valid) {
      broken = cp.seq;
      break;
    }
  }
  return { broken, last };
}
