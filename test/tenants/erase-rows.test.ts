// The erasure's last step: a tenant's rows go from every table that names a tenant, a
// page of rows per statement, and only that tenant's.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { eraseTenantRows } from "../../src/kernel/erasure/tables";
import { modules } from "../../src/modules";

async function mails(tenantId: string, count: number): Promise<void> {
  const insert = env.DB.prepare(
    "insert into dev_mailbox (id, tenant_id, to_address, subject, body, created_at) values (?, ?, 'a@example.com', 's', 'b', '2026-01-01T00:00:00Z')",
  );
  for (let i = 0; i < count; i += 500) {
    const batch = Array.from({ length: Math.min(500, count - i) }, (_, j) =>
      insert.bind(`${tenantId}-${i + j}`, tenantId),
    );
    await env.DB.batch(batch);
  }
}

const countOf = async (tenantId: string) =>
  (
    await env.DB.prepare("select count(*) as n from dev_mailbox where tenant_id = ?")
      .bind(tenantId)
      .first<{ n: number }>()
  )?.n;

describe("erasing a tenant's rows", () => {
  it("deletes more rows than one page holds, all of them, and none of another tenant's (whose id it prefixes)", async () => {
    await mails("01ERASEROWS", 2_345);
    await mails("01ERASEROWS2", 3);
    const counts = await eraseTenantRows(env, modules, "01ERASEROWS");
    expect(counts.dev_mailbox).toBe(2_345);
    expect(await countOf("01ERASEROWS")).toBe(0);
    expect(await countOf("01ERASEROWS2")).toBe(3);
    // Again: nothing left, nothing deleted.
    expect((await eraseTenantRows(env, modules, "01ERASEROWS")).dev_mailbox).toBe(0);
  });
});
