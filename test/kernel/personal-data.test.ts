// The kernel's export (GET /api/v1/me/export) composes what every module declaring
// `personal_data` answers, each under its module's name, and names no module: a module of a
// test's own is exported as the core's are, one without it contributes nothing, and a field a
// module's schema does not declare never leaves (docs/modules.md, "Personal data").
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { DataSubject } from "../../src/kernel/modules/personal-data";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { audit } from "../../src/modules/audit";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { callerOf, PASSWORD } from "../identity/helpers";

const asked: DataSubject[] = [];

/** A module that keeps a note per user, and returns with it a field it never declared. */
const notes = {
  name: "notes",
  version: "1.0.0",
  personal_data: {
    schema: z.object({ note: z.string() }),
    async export(subject: DataSubject) {
      asked.push(subject);
      return { note: `the note of ${subject.userId}`, password_hash: "$argon2id$leaked" };
    },
  },
} satisfies ModuleDef;

/** A module that keeps nothing of a person. */
const quiet = { name: "quiet", version: "1.0.0" } satisfies ModuleDef;

describe("the export over the registered modules", () => {
  const { fetch } = testApp([system(), tenants(), identity(), audit(), notes, quiet]);
  const call = callerOf(fetch);

  it("puts each declaring module's part under its name, parsed with its schema, and nothing of the others", async () => {
    const slug = `pdk-${crypto.randomUUID().slice(0, 8)}`;
    const made = await call("/api/v1/platform/tenants", {
      token: String(env.PLATFORM_ROOT_KEY),
      body: { slug, name: slug },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const email = `ada-${slug}@example.com`;
    const reg = await call("/api/v1/auth/register", { tenant: slug, body: { email, password: PASSWORD, name: "Ada" } });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const login = await call("/api/v1/auth/login", { tenant: slug, body: { email, password: PASSWORD } });
    expect(login.status, JSON.stringify(login.body)).toBe(200);

    const res = await call("/api/v1/me/export", { token: String(login.body.access_token) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const modules = res.body.modules as Record<string, unknown>;
    expect(Object.keys(modules).sort()).toEqual(["audit", "identity", "notes"]);
    expect(modules.notes).toEqual({ note: `the note of ${String(reg.body.id)}` });
    expect(JSON.stringify(res.body)).not.toContain("leaked");
    expect(asked).toContainEqual({ tenantId: String(made.body.id), userId: String(reg.body.id) });

    // The document describes the part by the module's own schema.
    const doc = (await (await fetch("/openapi.json")).json()) as {
      components: { schemas: Record<string, { properties: Record<string, { properties?: Record<string, unknown> }> }> };
    };
    const parts = doc.components.schemas.PersonalDataExport?.properties.modules?.properties ?? {};
    expect(Object.keys(parts).sort()).toEqual(["audit", "identity", "notes"]);
  });
});
