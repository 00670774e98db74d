// A client learns which policies `rate_limits` takes from the OpenAPI schema, not by being
// refused: the schema's list and the 400's list come from one place and must not drift.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, newTenant, ORIGIN } from "./helpers";

type Doc = { components: { schemas: Record<string, { properties?: Record<string, { description?: string }> }> } };

describe("TenantSettings.rate_limits in /openapi.json", () => {
  it("names the policies a tenant may set, the same ones a refused setting's 400 lists", async () => {
    const doc = (await (await SELF.fetch(`${ORIGIN}/openapi.json`)).json()) as Doc;
    const description = doc.components.schemas.TenantSettings?.properties?.rate_limits?.description ?? "";
    const settable = description.split("by default:")[1]?.split(";")[0] ?? "";
    const inSchema = [...settable.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);

    const t = await newTenant();
    const refused = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { rate_limits: { no_such_policy: { limit: 100, period_s: 60 } } },
    });
    expect(refused.status).toBe(400);
    const errors = refused.body.errors as { path: string; message: string }[];
    const message = errors.find((e) => e.path === "body.rate_limits.no_such_policy")?.message ?? "";
    const inRefusal = message.split("one of ")[1]?.split(", ") ?? [];

    expect(inRefusal.length).toBeGreaterThan(0);
    expect(inSchema).toEqual(inRefusal);
  });
});
