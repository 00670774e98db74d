// The workerd suite's Worker resolves the hosts tenants name with its own resolver
// (test/worker.ts, test/test-resolver.ts), not with DNS over HTTPS: a test must not need the
// internet (CI may be offline) nor send the hosts it names to a public resolver. The guard in
// test/setup.ts fails any file that asks one; these tests ask through both outbound paths.
import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";
import { internetDnsQueries } from "../internet-dns-guard";
import { TEST_RECEIVER_ADDRESS, TEST_RECEIVER_HOST } from "../test-resolver";

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what}: not reached in 10 s`);
}

describe("the test Worker's DNS", () => {
  it("checks a webhook receiver's host with the test resolver, asking no public resolver", async () => {
    const t = await newTenant("offline-dns");
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: `https://${TEST_RECEIVER_HOST}/hook`, events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);
    const sent = await call(`/api/v1/admin/webhooks/${id}/test`, { token: t.adminKey, method: "POST" });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);

    const attempted = await until("the test message attempted", async () => {
      const page = await call(`/api/v1/admin/webhooks/${id}/deliveries`, { token: t.adminKey });
      const [first] = page.body.items as { id: string; attempts: number }[];
      return first && first.attempts > 0 ? first : undefined;
    });
    const detail = await call(`/api/v1/admin/webhooks/${id}/deliveries/${attempted.id}`, { token: t.adminKey });
    // Only the test resolver gives this name an address, and a private one: the guard refused
    // it by that address, so nothing was sent to a receiver either. A refusal is retried with
    // full jitter (a wait drawn from [0, 30 s]), so a second attempt may already be logged when
    // this reads: every attempt logged must be such a refusal.
    const log = detail.body.attempt_log as { outcome: string; response: string }[];
    expect(log.length).toBeGreaterThan(0);
    for (const entry of log) {
      expect(entry).toEqual(
        expect.objectContaining({ outcome: "refused", response: expect.stringContaining("a private network address") }),
      );
    }
    expect(JSON.stringify(detail.body)).not.toContain(TEST_RECEIVER_ADDRESS);
    expect(internetDnsQueries()).toEqual([]);
  });

  it("looks up an identity provider's host with the test resolver, asking no public resolver", async () => {
    const t = await newTenant("offline-sso");
    const configured = await call("/api/v1/admin/sso", {
      method: "PUT",
      token: t.adminKey,
      body: {
        issuer: "https://login.example.com",
        client_id: "plinth",
        client_secret: "offline-dns-secret",
        allowed_domains: ["example.com"],
        default_role: "member",
      },
    });
    expect(configured.status, JSON.stringify(configured.body)).toBe(200);
    const start = await call("/api/v1/auth/sso/start", { tenant: t.slug });
    // The provider's discovery cannot be reached: its host does not exist for the test resolver.
    expect(start.body.code, JSON.stringify(start.body)).toBe("sso_provider_error");
    expect(internetDnsQueries()).toEqual([]);
  });
});
