// A value sealed under a key version ENCRYPTION_KEYS no longer lists (docs/operations.md,
// "Rotating keys") is counted on /metrics, logged with what holds it, and named by /readyz,
// on every path that opens one: two-factor sign-in, a webhook endpoint actor signing, mail,
// and the re-encryption.
import { runDurableObjectAlarm, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { base64UrlEncode } from "../../src/kernel/crypto";
import { contentOf, mailEnvelope, toMessage } from "../../src/kernel/notify/message";
import { endpointActor } from "../../src/modules/webhooks/contract";
import { keyedEnvelope, testRuntime } from "../helpers";
import { ORIGIN, PASSWORD } from "../identity/helpers";
import { codeAt } from "../identity/two-factor-helpers";
import { enrolledTotp, type KeyedCall, keyedPlatform, tenantOn } from "./keyed-platform";

const clock = manualClock("2046-03-01T00:00:10.000Z");
const root = String(env.PLATFORM_ROOT_KEY);
/** The pool's own ENCRYPTION_KEYS (version 1 only), which the objects' env holds too. */
const POOL_KEYS = String(testRuntime().config.encryptionKeys);
/** A fresh key under `version`: each test its own version, so its series starts at 0 whatever ran before. */
const keyOf = (version: number) => ({ version, key: base64UrlEncode(crypto.getRandomValues(new Uint8Array(32))) });

const platform = (encryptionKeys: string) => keyedPlatform(encryptionKeys, clock);
type Call = KeyedCall;

const newTenant = (call: Call, prefix: string) => tenantOn(call, clock, prefix);

/** Registers a user in the tenant and enrols it in two-factor sign-in; its email, id and TOTP secret. */
async function totpUser(call: Call, slug: string) {
  const email = `ada-${crypto.randomUUID().slice(0, 8)}@example.com`;
  return { email, ...(await enrolledTotp(call, clock, slug, email)) };
}

/** The value of one counter series on /metrics, 0 when absent. */
async function unsealFailures(reason: string, kind: string, version: number): Promise<number> {
  const text = await (await SELF.fetch(`${ORIGIN}/metrics`)).text();
  const series = `plinth_unseal_failures_total{reason="${reason}",kind="${kind}",version="${version}"}`;
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** The JSON log lines written at warn and error while `run` runs. */
async function logsOf(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const keep = (line: unknown) => void lines.push(JSON.parse(String(line)) as Record<string, unknown>);
  vi.spyOn(console, "warn").mockImplementation(keep);
  vi.spyOn(console, "error").mockImplementation(keep);
  await run();
  vi.restoreAllMocks();
  return lines;
}

afterEach(() => vi.restoreAllMocks());

describe("a value sealed under a key version ENCRYPTION_KEYS lacks", () => {
  it("two-factor sign-in: counted, logged naming the version and the user's field, named by /readyz", async () => {
    const sealing = platform(JSON.stringify([keyOf(31)]));
    const t = await newTenant(sealing, "unseal-totp");
    const user = await totpUser(sealing, t.slug);
    const current = platform(POOL_KEYS);

    let refusedBody: Record<string, unknown> = {};
    const lines = await logsOf(async () => {
      const first = await current("/api/v1/auth/login", {
        tenant: t.slug,
        body: { email: user.email, password: PASSWORD },
      });
      clock.advance(30_000);
      const refused = await current("/api/v1/auth/two-factor", {
        tenant: t.slug,
        body: { challenge: first.body.challenge, code: codeAt(user.secret, clock) },
      });
      expect(refused.status).toBe(500);
      expect(refused.body.code).toBe("config_invalid");
      refusedBody = refused.body;
    });

    expect(await unsealFailures("unknown_key_version", "identity.totp", 31)).toBe(1);
    // The user's sign-up mail, sealed under version 31 too, may be met by the mail consumer meanwhile.
    const line = lines.find(
      (l) => String(l.msg).includes("ENCRYPTION_KEYS lacks key version 31") && l.kind === "identity.totp",
    );
    expect(line).toMatchObject({
      level: "error",
      reason: "unknown_key_version",
      key_version: 31,
      kind: "identity.totp",
      field: `identity.totp/${user.id}`,
      tenant_id: t.id,
    });
    expect(JSON.stringify(lines)).not.toContain(user.secret);
    // Logged once, where it was met: the edge added "unhandled error" with a stack, as for a bug.
    expect(lines.filter((l) => l.kind === "identity.totp")).toHaveLength(1);
    expect(lines.filter((l) => l.msg === "unhandled error")).toEqual([]);
    expect(refusedBody).not.toHaveProperty("stack");

    // Readiness still passes (every isolate has the same keys; the rest serves), and says why.
    const ready = await current("/readyz");
    expect(ready.status).toBe(200);
    const check = (ready.body.checks as Record<string, { ok: boolean; warning?: string }>).sealed_values;
    expect(check?.ok).toBe(true);
    expect(check?.warning).toMatch(/lacks key version .*31.*identity\.totp under v31/);
  });

  it("a webhook endpoint actor signing a delivery: counted where the actor runs", async () => {
    const sealing = platform(JSON.stringify([keyOf(32)]));
    const t = await newTenant(sealing, "unseal-hook");
    const hook = await sealing("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "http://127.0.0.1:9/hook", events: ["blog.post.*"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const id = String(hook.body.id);
    // The actor's env holds the pool's keys only: it cannot open the secret sealed under v32.
    const sent = await platform(POOL_KEYS)(`/api/v1/admin/webhooks/${id}/test`, {
      method: "POST",
      token: t.adminKey,
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    const stub = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`);
    // Left queued, the delivery is retried for the rest of the run, and every retry logs the
    // missing key as an error in whatever file runs then: noise that buries real failures.
    onTestFinished(async () => {
      await endpointActor(env, t.id, id).purge({});
    });
    let failures = 0;
    await logsOf(async () => {
      for (let i = 0; failures === 0; i++) {
        if (i > 100) throw new Error("the actor never tried to open the secret");
        await runDurableObjectAlarm(stub);
        await new Promise((r) => setTimeout(r, 50));
        failures = await unsealFailures("unknown_key_version", "webhooks.secret", 32);
      }
    });
    expect(failures).toBeGreaterThanOrEqual(1);
  });

  it("mail on the queue, and the re-encryption: both counted by kind", async () => {
    const v33 = keyOf(33);
    const message = await toMessage(
      {
        id: "m_unseal",
        tenantId: "t_unseal",
        kind: "verify_email",
        createdAt: clock.now().toISOString(),
        to: "ada@example.com",
        subject: "s",
        text: "t",
        html: "<p>t</p>",
      },
      mailEnvelope(JSON.stringify([v33])),
    );
    await logsOf(async () => {
      await expect(contentOf(message, POOL_KEYS)).rejects.toThrow("does not open");
    });
    expect(await unsealFailures("unknown_key_version", "mail", 33)).toBe(1);

    const sealing = platform(JSON.stringify([keyOf(34)]));
    const t = await newTenant(sealing, "unseal-reseal");
    await totpUser(sealing, t.slug);
    await logsOf(async () => {
      const res = await platform(POOL_KEYS)("/api/v1/platform/crypto/reencrypt", {
        token: root,
        body: { tenant_id: t.id },
        headers: { "idempotency-key": crypto.randomUUID() },
      });
      expect(res.body.tenants).toEqual([expect.objectContaining({ error: expect.stringContaining("version 34") })]);
    });
    expect(await unsealFailures("unknown_key_version", "identity.totp", 34)).toBe(1);
  });

  it("a version whose key bytes changed counts as not_authentic, not as a missing version", async () => {
    const t = await newTenant(platform(POOL_KEYS), "unseal-bytes");
    const sealed = await keyedEnvelope(JSON.stringify([keyOf(35)]), clock).encrypt(t.id, "webhooks.secret/e1", "s3");
    const other = keyedEnvelope(JSON.stringify([keyOf(35)]), clock);
    await logsOf(async () => {
      await expect(other.decryptText(t.id, "webhooks.secret/e1", sealed)).rejects.toThrow("decryption failed");
    });
    expect(await unsealFailures("not_authentic", "webhooks.secret", 35)).toBe(1);
    expect(await unsealFailures("unknown_key_version", "webhooks.secret", 35)).toBe(0);

    // /readyz says it too, as it says a missing version: an operator who put a new key under
    // the current version number saw /readyz ok, `crypto versions` content and `reencrypt`
    // re-seal nothing, while two-factor sign-ins answered 500 and webhooks stopped.
    const ready = await platform(POOL_KEYS)("/readyz");
    expect(ready.status).toBe(200);
    const check = (ready.body.checks as Record<string, { ok: boolean; warning?: string }>).sealed_values;
    expect(check?.ok).toBe(true);
    // The record is the isolate's: other files' refused versions (v1, say) may be listed beside 35.
    expect(check?.warning).toMatch(
      /do not open under the key ENCRYPTION_KEYS gives version (?:\d+, )*35\b[^;]*\b1 webhooks\.secret under v35\b/,
    );
    expect(check?.warning).toContain("a new key takes a new version");
    expect(check?.warning).not.toContain("s3");
  });
});
