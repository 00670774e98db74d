// A sealed value's field is `<kind>/<record id>`, and its kind must be one the platform declares
// (docs/crypto.md, "Envelope encryption"): `plinth crypto versions` and `reencrypt` reach only the
// kinds modules declare, so a value of any other kind would be left under a key version an
// operator then retires, unreadable. The envelope refuses to seal one (before anything is
// written, a tenant's seed included), and a value that fails to open counts on /metrics and
// /readyz under its declared kind or `undeclared`, never under its field's own text, which
// made one series per record for a module that wrote `kind:id`.
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { base64UrlEncode } from "../../src/kernel/crypto";
import { MissingKeyVersion } from "../../src/kernel/crypto/envelope";
import { UndeclaredSealedKind } from "../../src/kernel/crypto/sealed-kinds";
import {
  type TenantSeedSource,
  tenantEnvelopeOf,
  tenantEnvelopeOfRequest,
} from "../../src/kernel/crypto/tenant-envelope";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { contentOf, mailEnvelope, toMessage } from "../../src/kernel/notify/message";
import { createRouter } from "../../src/kernel/openapi/router";
import { modules as registered } from "../../src/modules";
import { expectProblem, testApp, testRuntime } from "../helpers";
import { newTenant, ORIGIN } from "../identity/helpers";

afterEach(() => vi.restoreAllMocks());

/**
 * Every registered module, identity's seed source watched: the tenants whose seed anything asked
 * for (`create` true is what makes one). Nothing else on a request asks for a seed.
 */
function watchedSeeds() {
  const asked: string[] = [];
  const mods = registered.map((m): ModuleDef => {
    const source = m.auth?.tenant_seeds;
    if (!source) return m;
    const watched: TenantSeedSource = (env, clock) => {
      const seeds = source(env, clock);
      return {
        seed: (tenantId, create) => {
          asked.push(tenantId);
          return seeds.seed(tenantId, create);
        },
      };
    };
    return { ...m, auth: { ...m.auth, tenant_seeds: watched } };
  });
  return { mods, asked };
}

/**
 * A tickets module that declares one kind, `tickets.comment.text`, and has routes sealing it, a
 * kind it forgot to declare (`tickets.note`), and its own kind with the id joined by `:`.
 */
function ticketsModule() {
  const stored = new Map<string, string>();
  const Body = z.object({ text: z.string().min(1).max(200) });
  const sealing = (field: (id: string) => string) => async (c: Parameters<typeof tenantEnvelopeOfRequest>[0]) => {
    const id = c.req.param("id") ?? "";
    const { text } = Body.parse(await c.req.json());
    const envelope = tenantEnvelopeOfRequest(c);
    stored.set(`${envelope.tenantId}/${field(id)}`, await envelope.encrypt(field(id), text));
    return c.json({ id }, 201);
  };
  const routes = createRouter()
    .post(
      "/comments/:id",
      sealing((id) => `tickets.comment.text/${id}`),
    )
    .post(
      "/notes/:id",
      sealing((id) => `tickets.note/${id}`),
    )
    .post(
      "/joined/:id",
      sealing((id) => `tickets.comment.text:${id}`),
    );
  const def = {
    name: "tickets",
    version: "1.0.0",
    routes,
    sealed: {
      kinds: ["tickets.comment.text"],
      versions: async () => ({}),
      reencrypt: async () => ({ resealed: 0, raced: 0 }),
    },
  } satisfies ModuleDef;
  return { def, stored };
}

const post = (slug: string, text: string) => ({
  method: "POST",
  headers: { "content-type": "application/json", "x-tenant": slug },
  body: JSON.stringify({ text }),
});

describe("sealing a field of a kind no module declares", () => {
  it("answers 500 without details, logs the kind and what to declare, and writes nothing, not even a seed", async () => {
    const tickets = ticketsModule();
    const { mods, asked } = watchedSeeds();
    const { fetch } = testApp([...mods, tickets.def]);
    const t = await newTenant("kinds-route");
    const lines: Record<string, unknown>[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => {
      lines.push(JSON.parse(String(line)) as Record<string, unknown>);
    });

    for (const [path, kind] of [
      ["/api/v1/tickets/notes/n1", "tickets.note"],
      ["/api/v1/tickets/joined/c1", "tickets.comment.text:c1"],
    ] as const) {
      const refused = await fetch(path, post(t.slug, "my phone is 555-0100"));
      const problem = await expectProblem(refused, 500, "internal");
      expect(JSON.stringify(problem)).not.toMatch(/tickets\.|Undeclared|\bat |\.ts\b|555/);
      const line = lines.find((l) => l.error_name === "UndeclaredSealedKind" && String(l.error_message).includes(kind));
      expect(line, JSON.stringify(lines)).toMatchObject({ level: "error", msg: "unhandled error" });
      expect(String(line?.error_message)).toContain(`sealed field kind "${kind}" is not declared`);
      expect(String(line?.error_message)).toContain("ModuleDef.sealed");
    }
    expect([...tickets.stored.keys()]).toEqual([]);
    expect(asked).toEqual([]);

    // The declared kind seals through the same module and seed source (which then is asked).
    expect((await fetch("/api/v1/tickets/comments/c1", post(t.slug, "fine"))).status).toBe(201);
    expect([...tickets.stored.keys()]).toEqual([`${t.id}/tickets.comment.text/c1`]);
    expect(asked).toContain(t.id);
  });

  it("throws UndeclaredSealedKind, naming the kind, from a job's envelope too, before any seed is asked for", async () => {
    const tickets = ticketsModule();
    const { mods, asked } = watchedSeeds();
    const envelope = tenantEnvelopeOf({ ...testRuntime(), modules: [...mods, tickets.def] });
    for (const field of ["tickets.note/n1", "tickets.comment.text.c1", "identity.sso.state:x", "mail/m1", ""]) {
      const error = await envelope.encrypt("t_kinds_job", field, "x").catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(UndeclaredSealedKind);
      expect((error as UndeclaredSealedKind).kind).toBe(field.split("/")[0]);
    }
    expect(asked).toEqual([]);
  });
});

describe("the kinds the platform seals today", () => {
  it("still seal and open: identity's TOTP, SSO client secret and sign-in state, webhooks' secrets, mail", async () => {
    const envelope = tenantEnvelopeOf(testRuntime());
    const t = await newTenant("kinds-shipped");
    for (const field of [
      "identity.totp/u1",
      "identity.sso.client_secret",
      "identity.sso.state",
      "webhooks.secret/e1",
    ]) {
      const sealed = await envelope.encrypt(t.id, field, `secret of ${field}`);
      expect(await envelope.decryptText(t.id, field, sealed)).toBe(`secret of ${field}`);
    }
    const keys = String(testRuntime().config.encryptionKeys);
    const mail = { id: "m_kinds", tenantId: t.id, kind: "verify_email", createdAt: "2026-01-01T00:00:00.000Z" };
    const content = { to: "ada@example.com", subject: "s", text: "t", html: "<p>t</p>" };
    const message = await toMessage({ ...mail, ...content }, mailEnvelope(keys));
    expect(await contentOf(message, keys)).toEqual(content);
    // The kernel's mail envelope seals mail only: its list is its own, not the modules'.
    await expect(mailEnvelope(keys).encrypt(t.id, "webhooks.secret/e1", "x")).rejects.toBeInstanceOf(
      UndeclaredSealedKind,
    );
  });
});

/** Every `plinth_unseal_failures_total` series of key version `version` on /metrics, read through the route: kind → count. */
async function unsealSeries(version: number): Promise<Record<string, number>> {
  const text = await (await SELF.fetch(`${ORIGIN}/metrics`)).text();
  const sample = /^plinth_unseal_failures_total\{reason="([^"]*)",kind="((?:[^"\\]|\\.)*)",version="(\d+)"\} (\d+)$/;
  const series: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = sample.exec(line);
    if (m?.[3] === String(version)) series[`${m[1]}:${m[2]}`] = Number(m[4]);
  }
  return series;
}

describe("a value of an undeclared kind that does not open", () => {
  it("counts under `undeclared` on /metrics and /readyz, one series however many records", async () => {
    // Sealed under version 77, which ENCRYPTION_KEYS does not list: it fails as unknown_key_version.
    const forged = `v77.${base64UrlEncode(new Uint8Array(24))}.${base64UrlEncode(new Uint8Array(40))}`;
    const envelope = tenantEnvelopeOf(testRuntime());
    vi.spyOn(console, "error").mockImplementation(() => {});
    const fields = ["x.y:123", "x.y:124", "x.y:125", "tickets.comment.c1", "tickets.comment.c2", "identity.totp/u7"];
    for (const field of fields) {
      await expect(envelope.decrypt("t_kinds_metric", field, forged)).rejects.toBeInstanceOf(MissingKeyVersion);
    }
    vi.restoreAllMocks();

    expect(await unsealSeries(77)).toEqual({
      "unknown_key_version:undeclared": 5,
      "unknown_key_version:identity.totp": 1,
    });
    const text = await (await SELF.fetch(`${ORIGIN}/metrics`)).text();
    expect(text).not.toMatch(/x\.y:12|tickets\.comment\.c/);

    const ready = (await (await SELF.fetch(`${ORIGIN}/readyz`)).json()) as {
      checks: Record<string, { warning?: string }>;
    };
    const warning = ready.checks.sealed_values?.warning ?? "";
    expect(warning).toContain("5 undeclared under v77");
    expect(warning).not.toMatch(/x\.y:12|tickets\.comment\.c/);
  });
});
