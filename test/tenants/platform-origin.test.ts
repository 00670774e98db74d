// What the tenant's audit log records of the platform operator's changes to it: the platform
// as actor, the operator's request id, the request's clock, and no address hash (a platform
// route names no tenant to key one by: docs/audit.md). Each operation builds it with the
// kernel's originOf (tenants/platform-call.ts), read where it writes.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { modules } from "../../src/modules";
import { auditLog } from "../../src/modules/audit/contract";
import { testApp } from "../helpers";

const AT = "2031-03-04T05:06:07.000Z";
const SECOND = 1000;

describe("the platform operator's changes, in the tenant's audit log", () => {
  it("name the platform, the operator's request and its time, and no address hash", async () => {
    const clock = manualClock(AT);
    const { fetch } = testApp(modules, {}, undefined, clock);
    const send = async (path: string, method: string, requestId: string, token: string, body?: unknown) => {
      const res = await fetch(`http://plinth.test/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          "x-request-id": requestId,
          "cf-connecting-ip": "198.51.100.9",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      return res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>);
    };
    const root = String(env.PLATFORM_ROOT_KEY);
    const slug = `plat-origin-${crypto.randomUUID().slice(0, 8)}`;
    const created = await send("/platform/tenants", "POST", "req-po-create", root, { slug, name: slug });
    const id = String(created.id);
    const adminKey = String(created.admin_key);
    // The tenant's own limit, for the operator to clear (clearing nothing records nothing).
    await fetch("http://plinth.test/api/v1/admin/settings", {
      method: "PATCH",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ rate_limits: { tenant: { limit: 600, period_s: 60 } } }),
    });
    clock.advance(SECOND);
    await send(`/platform/tenants/${id}`, "PATCH", "req-po-update", root, { plan: "pro" });
    clock.advance(SECOND);
    await send(`/platform/tenants/${id}/admin-keys`, "POST", "req-po-key", root, { name: "recovery" });
    clock.advance(SECOND);
    await send(`/platform/tenants/${id}/rate-limits`, "DELETE", "req-po-limits", root);

    const at = (s: number) => new Date(Date.parse(AT) + s * SECOND).toISOString();
    const want = [
      { action: "tenants.tenant.created", request_id: "req-po-create", at: at(0) },
      { action: "identity.key.created", request_id: "req-po-create", at: at(0) },
      { action: "tenants.tenant.updated", request_id: "req-po-update", at: at(1) },
      { action: "identity.key.created", request_id: "req-po-key", at: at(2) },
      { action: "identity.settings.updated", request_id: "req-po-limits", at: at(3) },
    ].map((e) => JSON.stringify({ ...e, actor: { kind: "platform", id: "platform" }, ip_hash: null }));
    let got: string[] = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      const entries = await auditLog(env, id).entries({ fromSeq: 1, limit: 100 });
      got = entries
        .filter((e) => e.actor.kind === "platform")
        .map(({ action, request_id, at, actor, ip_hash }) =>
          JSON.stringify({ action, request_id, at, actor, ip_hash }),
        );
      if (got.length >= want.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Streams reach the log in no order among themselves: compare as sets.
    expect(got.sort()).toEqual(want.sort());
  });
});
