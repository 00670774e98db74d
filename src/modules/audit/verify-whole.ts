import type { StepReport } from "./verify";

/**
 * A whole chain's verification made of bounded steps (verify.ts's `verifyStep`), each its own
 * request to the AuditLog object: from seq 1, each step from the last one's `next_from_seq`,
 * until one reaches the end or finds a fault. The object serves the tenant's appends between
 * steps, and no one request of it recomputes more than a step's entries, whatever the log's
 * length. The answer is the last step's, from seq 1, with `entries` the seqs every step covered:
 * `ok` says the whole chain verified, as it did before verification came in steps.
 *
 * @example
 * await verifyWhole((fromSeq) => auditLog(env, tenantId).verify({ fromSeq }));
 */
export async function verifyWhole<S extends StepReport>(step: (fromSeq: number) => Promise<S>): Promise<S> {
  let last = await step(1);
  let entries = last.entries;
  while (last.next_from_seq !== null) {
    last = await step(last.next_from_seq);
    entries += last.entries;
  }
  return { ...last, from_seq: 1, entries };
}
