// A tenant's audit log, once its erasure emptied it, takes no late event: a queue batch
// that checked the tenant before its DELETE must not chain the erased tenant's entry again,
// nor copy one back into the read model after the erasure deleted its rows.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/kernel/events/envelope";
import { auditLog } from "../../src/modules/audit/contract";
import { recordEvents } from "../../src/modules/audit/subscriber";
import { deliver, testRuntime } from "../helpers";

let n = 0;
const event = (tenant: string): Envelope => ({
  id: `erased-ev-${++n}`,
  type: "identity.user.logged_in",
  tenant_id: tenant,
  stream: `${tenant}/user/u1`,
  version: n,
  occurred_at: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  actor: { kind: "user", id: "u1" },
  request_id: null,
  data: {},
});
const recordEvent = (e: Envelope) => deliver(recordEvents, [e], testRuntime());
const d1Rows = async (tenant: string) =>
  (await env.DB.prepare("select seq from audit_entries where tenant_id = ?").bind(tenant).all()).results;

describe("AuditLog after its tenant's erasure", () => {
  it("chains no late event and hands the read model nothing to copy", async () => {
    const tenant = `erased-audit-${Date.now()}`;
    await recordEvent(event(tenant));
    expect((await auditLog(env, tenant).verify()).entries).toBe(1);

    // The erasure: the audit module's step, then (last) the tenant's rows.
    await auditLog(env, tenant).eraseAll({ tenant_id: tenant });
    await env.DB.prepare("delete from audit_entries where tenant_id = ?").bind(tenant).run();

    await recordEvent(event(tenant));
    expect((await auditLog(env, tenant).verify()).entries).toBe(0);
    expect(await auditLog(env, tenant).entries({ fromSeq: 1, limit: 10 })).toEqual([]);
    expect(await d1Rows(tenant)).toEqual([]);
  });
});
