import type { Json, OutgoingEvent } from "../../src/kernel/events/envelope";

/**
 * An outbox row the relay tests append by hand: `id` and `version` as the test numbers them,
 * of `tenant` (its stream `<tenant>/test`), carrying `data`. What the relay sends is all they
 * look at, so every other field is fixed.
 */
export const seededEvent = (
  id: string,
  version: number,
  tenant = "t-outbox",
  data: Record<string, Json> = {},
): OutgoingEvent => ({
  id,
  type: "test.outbox.seeded",
  tenant_id: tenant,
  stream: `${tenant}/test`,
  version,
  occurred_at: new Date(0).toISOString(),
  actor: { kind: "system", id: null },
  data,
  request_id: null,
});

/**
 * Polls `check` every 10 ms until it holds; throws naming `what` after `ms` (10 s), so a relay
 * that never sends fails here, not at a later assertion with an unrelated message.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  for (let waited = 0; !(await check()); waited += 10) {
    if (waited >= ms) throw new Error(`${what}: not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
