import type { Signer } from "../../kernel/crypto/signer";
import { type AuditCheckpoint, type AuditEntry, checkpointMessage, firstBroken, GENESIS_HASH } from "./chain";

/** What {@link verifyChain} found: the first seq at fault (null when none) and the chain's end. */
export interface ChainReport {
  broken: number | null;
  last: { seq: number; hash: string };
}

/**
 * Recomputes a tenant's chain, page by page, and checks every checkpoint given:
 * its hash must be the chain's at its seq and its signature must verify with
 * the key it names. `broken` is the first seq at fault: an entry that does not
 * hash, link or follow, or a checkpoint that the chain or its signature
 * contradicts (so a chain cut short below a checkpoint is caught there).
 * The walk starts after `start` (default: seq 0, the genesis hash) and ends at
 * `through` (default: the chain's end). Pure but for the signature check; the
 * AuditLog DO's `verify` runs it through {@link verifyStep}.
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
  start?: { seq: number; hash: string };
  through?: number;
}): Promise<ChainReport> {
  const pageSize = input.pageSize ?? 500;
  const start = input.start ?? { seq: 0, hash: GENESIS_HASH };
  const through = input.through ?? Number.POSITIVE_INFINITY;
  const wanted = new Set(input.checkpoints.map((c) => c.seq));
  // Seq 0 is the head before entry 1: what an empty log's export signed.
  const hashAt = new Map<number, string>([[start.seq, start.hash]]);
  let last = start;
  let broken: number | null = null;
  for (let from = start.seq + 1; broken === null && from <= through; from += pageSize) {
    const page = input.page(from, Math.min(pageSize, through - from + 1));
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

/** One step's verdict, as `GET /api/v1/admin/audit/verify` answers it (with the latest checkpoint). */
export interface StepReport {
  ok: boolean;
  entries: number;
  from_seq: number;
  last_seq: number;
  last_hash: string;
  next_from_seq: number | null;
  broken_seq?: number;
}

/**
 * One bounded step of a chain's verification: entries `fromSeq`..`fromSeq + limit - 1` against
 * the stored hash of entry `fromSeq - 1`, and the checkpoints in that range. The step before
 * recomputed that entry and found it equal to what is stored, so steps from seq 1, each from the
 * last one's `next_from_seq`, check the whole chain as one walk would. The step that reaches the
 * chain's end (`head`) also checks every checkpoint past its range: one past the end is a chain
 * cut short after it was signed. A step past the end reads nothing (its `last_*` are the head).
 * Stops at the first fault: `next_from_seq` is null then, as at the end.
 *
 * @example
 * await verifyStep({ tenantId, fromSeq: 1, limit: 10_000, head: store.last(), page, checkpoints, signer });
 */
export async function verifyStep(input: {
  tenantId: string;
  fromSeq: number;
  limit: number;
  head: { seq: number; hash: string };
  page: (fromSeq: number, limit: number) => readonly AuditEntry[];
  checkpoints: (fromSeq: number, throughSeq: number) => readonly AuditCheckpoint[];
  signer: Pick<Signer, "verify">;
  pageSize?: number;
}): Promise<StepReport> {
  const { fromSeq, head } = input;
  const through = fromSeq + input.limit - 1;
  const reachesEnd = through >= head.seq;
  const entries = Math.max(0, Math.min(through, head.seq) - fromSeq + 1);
  const report = (broken: number | null, last: { seq: number; hash: string }): StepReport => ({
    ok: broken === null,
    entries,
    from_seq: fromSeq,
    last_seq: last.seq,
    last_hash: last.hash,
    next_from_seq: broken === null && !reachesEnd ? through + 1 : null,
    ...(broken === null ? {} : { broken_seq: broken }),
  });
  let start = { seq: 0, hash: GENESIS_HASH };
  if (fromSeq > head.seq + 1) start = head;
  else if (fromSeq > 1) {
    // What the step before recomputed; without it nothing anchors this step, and it is the fault.
    const before = input.page(fromSeq - 1, 1)[0];
    if (before?.seq !== fromSeq - 1) return report(fromSeq - 1, head);
    start = { seq: before.seq, hash: before.hash };
  }
  const { broken, last } = await verifyChain({
    tenantId: input.tenantId,
    page: input.page,
    signer: input.signer,
    pageSize: input.pageSize,
    checkpoints: input.checkpoints(fromSeq, reachesEnd ? Number.MAX_SAFE_INTEGER : through),
    start,
    through,
  });
  return report(broken, last);
}
