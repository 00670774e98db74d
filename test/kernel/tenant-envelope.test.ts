// A product module seals a field with the tenant envelope through the kernel's port
// (`tenantEnvelopeOf(runtime)`, `tenantEnvelopeOfRequest(c)`), as docs/modules.md tells it to,
// without importing the module that keeps the tenant seeds: before the port, the envelope was
// built only in identity's key-material.ts, which test/node/module-imports.test.ts lets only
// webhooks import. The module here is a tiny "tickets" that seals a comment's text, registered
// beside every real module (identity provides the seeds, `auth.tenant_seeds`).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../src/kernel/config";
import { base64UrlEncode } from "../../src/kernel/crypto";
import { KeyMaterialDestroyed, sealedVersion } from "../../src/kernel/crypto/envelope";
import { countVersions, NO_RESEAL } from "../../src/kernel/crypto/key-versions";
import { resealStale } from "../../src/kernel/crypto/reseal";
import {
  TenantEnvelopeUnavailable,
  tenantEnvelopeOf,
  tenantEnvelopeOfRequest,
} from "../../src/kernel/crypto/tenant-envelope";
import { reencryptTenant, sealedFieldsOf, tenantVersions } from "../../src/kernel/crypto/tenant-pass";
import type { ModuleDef, ModuleRuntime } from "../../src/kernel/modules/types";
import { createRouter } from "../../src/kernel/openapi/router";
import { modules as registered } from "../../src/modules";
import { expectProblem, testApp, testRuntime } from "../helpers";
import { newTenant } from "../identity/helpers";

/** The envelope field of a comment's text: bound to the comment, so a ciphertext moved to another does not open. */
const commentField = (id: string) => `tickets.comment.text/${id}`;

/** A tiny tickets module: comments whose text it keeps sealed, in a store of its own (here, a map). */
function ticketsModule() {
  const comments = new Map<string, { tenantId: string; id: string; sealed: string }>();
  const key = (tenantId: string, id: string) => `${tenantId}/${id}`;
  const Body = z.object({ text: z.string().min(1).max(2_000) });
  const routes = createRouter()
    // The routes name no tenant: the envelope a route gets is bound to the request's.
    .post("/comments/:id", async (c) => {
      const { id } = c.req.param();
      const { text } = Body.parse(await c.req.json());
      const envelope = tenantEnvelopeOfRequest(c);
      const sealed = await envelope.encrypt(commentField(id), text);
      comments.set(key(envelope.tenantId, id), { tenantId: envelope.tenantId, id, sealed });
      return c.json({ id }, 201);
    })
    .get("/comments/:id", async (c) => {
      const { id } = c.req.param();
      const envelope = tenantEnvelopeOfRequest(c);
      const comment = comments.get(key(envelope.tenantId, id));
      if (!comment) return c.json({ error: "no such comment" }, 404);
      try {
        return c.json({ text: await envelope.decryptText(commentField(id), comment.sealed) });
      } catch {
        return c.json({ error: "does not open" }, 409);
      }
    });
  const of = (tenantId: string) => [...comments.values()].filter((v) => v.tenantId === tenantId);
  const def = {
    name: "tickets",
    version: "1.0.0",
    routes,
    sealed: {
      kinds: ["tickets.comment.text"],
      versions: async (tenantId) =>
        countVersions(
          of(tenantId).map((v) => ({ kind: "tickets.comment.text", sealed: v.sealed })),
          ["tickets.comment.text"],
        ),
      async reencrypt(tenantId, rt) {
        const values = of(tenantId).map((v) => ({ ...v, field: commentField(v.id) }));
        const reseals = await resealStale(tenantEnvelopeOf(rt), tenantId, values);
        let resealed = 0;
        let raced = 0;
        // The store's single writer swaps each value only if it still holds what was read.
        for (const r of reseals) {
          const now = comments.get(key(tenantId, r.id));
          if (now?.sealed !== r.from) raced++;
          else {
            comments.set(key(tenantId, r.id), { ...now, sealed: r.to });
            resealed++;
          }
        }
        return reseals.length === 0 ? NO_RESEAL : { resealed, raced };
      },
    },
  } satisfies ModuleDef;
  return {
    def,
    stored: (tenantId: string, id: string) => comments.get(key(tenantId, id))?.sealed,
    /** Puts a ciphertext in a tenant's store by hand, as a bug or an attacker copying a row would. */
    plant: (tenantId: string, id: string, sealed: string) => comments.set(key(tenantId, id), { tenantId, id, sealed }),
  };
}

/** The test runtime over `mods`, with `encryptionKeys` as ENCRYPTION_KEYS if given. */
function runtimeOf(mods: readonly ModuleDef[], encryptionKeys?: string): ModuleRuntime {
  const keyed = { ...env, ...(encryptionKeys === undefined ? {} : { ENCRYPTION_KEYS: encryptionKeys }) };
  const parsed = parseConfig(keyed);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return { ...testRuntime(), env: keyed, config: parsed.config, modules: mods };
}

const post = (slug: string, text: string) => ({
  method: "POST",
  headers: { "content-type": "application/json", "x-tenant": slug },
  body: JSON.stringify({ text }),
});
const as = (slug: string) => ({ headers: { "x-tenant": slug } });

describe("the kernel's tenant envelope, for a module that seals a field", () => {
  it("seals a comment in a route and opens it in a job, for its own tenant only", async () => {
    const tickets = ticketsModule();
    const mods = [...registered, tickets.def];
    const { fetch } = testApp(mods);
    const [a, b] = [await newTenant("env-a"), await newTenant("env-b")];

    const created = await fetch("/api/v1/tickets/comments/c1", post(a.slug, "my phone is 555-0100"));
    expect(created.status, await created.clone().text()).toBe(201);
    const sealed = tickets.stored(a.id, "c1") ?? "";
    expect(sealed).not.toContain("555");
    expect(sealedVersion(sealed)).toBe(1);

    const read = await fetch("/api/v1/tickets/comments/c1", as(a.slug));
    expect(await read.json()).toEqual({ text: "my phone is 555-0100" });
    // A subscriber or a job opens it from its runtime, naming no module.
    const envelope = tenantEnvelopeOf(runtimeOf(mods));
    expect(await envelope.decryptText(a.id, commentField("c1"), sealed)).toBe("my phone is 555-0100");
    // Under another tenant's id (its own seed, made by its first seal; its associated data) it
    // does not open; nor as another comment of the same tenant.
    expect((await fetch("/api/v1/tickets/comments/c1", post(b.slug, "b's own"))).status).toBe(201);
    await expect(envelope.decryptText(b.id, commentField("c1"), sealed)).rejects.toThrow(/decryption failed/);
    await expect(envelope.decryptText(a.id, commentField("c2"), sealed)).rejects.toThrow(/decryption failed/);
  });

  it("is bound to the request's tenant in a route: a ciphertext another tenant's row holds does not open", async () => {
    const tickets = ticketsModule();
    const { fetch } = testApp([...registered, tickets.def]);
    const [a, b] = [await newTenant("env-bound-a"), await newTenant("env-bound-b")];
    expect((await fetch("/api/v1/tickets/comments/c1", post(a.slug, "a's secret"))).status).toBe(201);
    // A's ciphertext copied into B's store, under the same comment id: B's request opens as B.
    tickets.plant(b.id, "c1", tickets.stored(a.id, "c1") ?? "");
    const leaked = await fetch("/api/v1/tickets/comments/c1", as(b.slug));
    expect(leaked.status).toBe(409);
    expect(await leaked.text()).not.toContain("a's secret");
    // A request with no tenant gets none: the envelope is not built (400, nothing sealed).
    const anonymous = await fetch("/api/v1/tickets/comments/c2", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "no tenant" }),
    });
    await expectProblem(anonymous, 400, "tenant_required");
    expect(tickets.stored(a.id, "c2") ?? tickets.stored(b.id, "c2")).toBeUndefined();
  });

  it("opens nothing once the tenant's keys are destroyed (the erasure's `keys` step)", async () => {
    const tickets = ticketsModule();
    const mods: ModuleDef[] = [...registered, tickets.def];
    const { fetch } = testApp(mods);
    const t = await newTenant("env-shred");
    expect((await fetch("/api/v1/tickets/comments/c1", post(t.slug, "personal"))).status).toBe(201);

    // What the erasure's `keys` step does: every module's `shred` (identity empties the directory's seed).
    const rt = runtimeOf(mods);
    for (const m of mods) await m.erasure?.shred?.(t.id, rt);

    await expect(
      tenantEnvelopeOf(rt).decryptText(t.id, commentField("c1"), tickets.stored(t.id, "c1") ?? ""),
    ).rejects.toBeInstanceOf(KeyMaterialDestroyed);
    await expect(tenantEnvelopeOf(rt).encrypt(t.id, commentField("c2"), "late")).rejects.toBeInstanceOf(
      KeyMaterialDestroyed,
    );
  });

  it("takes part in re-encryption through its `sealed` declaration", async () => {
    const tickets = ticketsModule();
    const mods = [...registered, tickets.def];
    const t = await newTenant("env-rotate");
    expect((await testApp(mods).fetch("/api/v1/tickets/comments/c1", post(t.slug, "rotate me"))).status).toBe(201);
    const v1 = JSON.parse(String(testRuntime().config.encryptionKeys)) as unknown[];
    const v2 = { version: 2, key: base64UrlEncode(crypto.getRandomValues(new Uint8Array(32))) };
    const rotated = runtimeOf(mods, JSON.stringify([v2, ...v1]));
    const fields = sealedFieldsOf(mods);

    expect((await tenantVersions(fields, t.id, rotated)).counts["tickets.comment.text"]).toEqual({ "1": 1 });
    const pass = await reencryptTenant(fields, t.id, rotated);
    expect(pass.error).toBeNull();
    expect(pass.resealed).toBeGreaterThanOrEqual(1);
    expect((await tenantVersions(fields, t.id, rotated)).counts["tickets.comment.text"]).toEqual({ "2": 1 });
    // Opened under version 2 alone: version 1 can be retired.
    const v2only = tenantEnvelopeOf(runtimeOf(mods, JSON.stringify([v2])));
    expect(await v2only.decryptText(t.id, commentField("c1"), tickets.stored(t.id, "c1") ?? "")).toBe("rotate me");
  });

  it("is a typed error without ENCRYPTION_KEYS or without a module providing tenant seeds", async () => {
    const tickets = ticketsModule();
    const keyless = { ...runtimeOf([...registered, tickets.def]), config: { ...testRuntime().config } };
    delete keyless.config.encryptionKeys;
    expect(() => tenantEnvelopeOf(keyless)).toThrow(TenantEnvelopeUnavailable);
    expect(() => tenantEnvelopeOf(keyless)).toThrow(/ENCRYPTION_KEYS is not configured/);
    let gap: unknown;
    try {
      tenantEnvelopeOf(runtimeOf([tickets.def]));
    } catch (error) {
      gap = error instanceof TenantEnvelopeUnavailable ? error.gap : error;
    }
    expect(gap).toBe("no_seed_source");

    // A route: without ENCRYPTION_KEYS the client is told 503 naming the variable, never a value.
    const keylessApp = testApp([...registered, tickets.def], { ENCRYPTION_KEYS: undefined });
    const t = await newTenant("env-keyless");
    const refused = await keylessApp.fetch("/api/v1/tickets/comments/c1", post(t.slug, "x"));
    const problem = await expectProblem(refused, 503, "unavailable");
    expect(problem.detail).toMatch(/ENCRYPTION_KEYS/);
    // Neither answer carries a stack, a class name or a source path.
    const noTrace = /\bat |Error\b|\.ts\b|TenantEnvelope/;
    expect(JSON.stringify(problem)).not.toMatch(noTrace);
    // A feature sealing through it says what it needs the keys for (webhooks' signing secrets).
    const hook = await keylessApp.fetch("/api/v1/admin/webhooks", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.adminKey}` },
      body: JSON.stringify({ url: "https://hooks.example/in", events: ["blog.post.*"] }),
    });
    const hookProblem = await expectProblem(hook, 503, "unavailable");
    expect(hookProblem.detail).toMatch(/^webhooks need ENCRYPTION_KEYS \(the master keys that seal signing secrets\)/);
    expect(JSON.stringify(hookProblem)).not.toMatch(noTrace);
    // No module keeps seeds (identity, which does, with that part taken away; the tenant still
    // resolves): a build's bug, 500, and nothing sealed.
    const noSeeds = registered.map((m) =>
      m.auth?.tenant_seeds ? { ...m, auth: { ...m.auth, tenant_seeds: undefined } } : m,
    );
    const seedless = await testApp([...noSeeds, tickets.def]).fetch("/api/v1/tickets/comments/c1", post(t.slug, "x"));
    expect(JSON.stringify(await expectProblem(seedless, 500, "internal"))).not.toMatch(noTrace);
    expect(tickets.stored(t.id, "c1")).toBeUndefined();
  });
});
