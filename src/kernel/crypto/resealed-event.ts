import { z } from "zod";
import type { OutgoingEvent } from "../events/envelope";

/**
 * `crypto.resealed`: the platform re-sealed some of a tenant's values under the current
 * ENCRYPTION_KEYS version (`plinth crypto reencrypt`). The operator's act on the tenant's
 * secrets goes into the tenant's audit log like its other acts (suspending, a recovery
 * key); the values themselves are unchanged, so the event names counts, never a value.
 */
export const ResealedEvent = z.object({
  type: z.literal("crypto.resealed"),
  data: z.object({
    key_version: z.number().int(),
    resealed: z.number().int().min(0),
    raced: z.number().int().min(0),
  }),
});

/** What one tenant's pass re-sealed, with the request that ran it. */
export interface ResealedPass {
  tenantId: string;
  keyVersion: number;
  resealed: number;
  raced: number;
  id: string;
  occurredAt: string;
  requestId: string | null;
}

/** The event of a pass that touched something; null for one that found nothing stale. */
export function resealedEvent(pass: ResealedPass): OutgoingEvent | null {
  if (pass.resealed === 0 && pass.raced === 0) return null;
  const facts = { key_version: pass.keyVersion, resealed: pass.resealed, raced: pass.raced };
  return {
    id: pass.id,
    type: "crypto.resealed",
    tenant_id: pass.tenantId,
    // Each pass is a stream of its own (no writer orders them), so its version 1 is true.
    stream: `${pass.tenantId}/crypto.resealed/${pass.id}`,
    version: 1,
    occurred_at: pass.occurredAt,
    actor: { kind: "platform", id: "platform" },
    request_id: pass.requestId,
    data: facts,
    audit: facts,
  };
}
