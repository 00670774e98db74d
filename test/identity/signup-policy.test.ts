import { describe, expect, it } from "vitest";
import { call, login, mailTo, newTenant, PASSWORD, register, tokenIn } from "./helpers";

type Tenant = Awaited<ReturnType<typeof newTenant>>;

async function setSignup(t: Tenant, signup: unknown) {
  return call("/api/v1/admin/settings", { method: "PATCH", token: t.adminKey, body: { signup } });
}

async function attempt(t: Tenant, email: string) {
  const res = await call("/api/v1/auth/register", { tenant: t.slug, body: { email, password: PASSWORD, name: "N" } });
  return res;
}

describe("signup policy (settings.signup)", () => {
  it("is open by default, and shown in the settings", async () => {
    const t = await newTenant();
    const settings = await call("/api/v1/admin/settings", { token: t.adminKey });
    expect(settings.body.signup).toEqual({ mode: "open", domains: [] });
    await register(t.slug, "anyone@example.com");
  });

  it("invite_only refuses every self-registration with 403 signup_closed, alike for a known and an unknown email", async () => {
    const t = await newTenant();
    await register(t.slug, "known@example.com");
    const set = await setSignup(t, { mode: "invite_only", domains: [] });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.signup).toEqual({ mode: "invite_only", domains: [] });

    const known = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "known@example.com", password: PASSWORD, name: "N" },
    });
    const unknown = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "stranger@example.com", password: PASSWORD, name: "N" },
    });
    for (const res of [known, unknown]) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("signup_closed");
    }
    // Nothing tells them apart but the request id.
    const { request_id: _a, ...a } = known.body;
    const { request_id: _b, ...b } = unknown.body;
    expect(a).toEqual(b);
    // Existing members still log in.
    await login(t.slug, "known@example.com");
  });

  it("a domain written in Unicode is listed as its punycode, the form an email's domain is kept in", async () => {
    const t = await newTenant();
    const set = await setSignup(t, { mode: "domains", domains: [" Bücher.Example "] });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.signup).toEqual({ mode: "domains", domains: ["xn--bcher-kva.example"] });
    expect((await attempt(t, "ada@bücher.example")).status).toBe(201);
    expect((await attempt(t, "bo@xn--bcher-kva.example")).status).toBe(201);
    // What no host is stays refused: the same 400 as before.
    expect((await setSignup(t, { mode: "domains", domains: ["bücher example"] })).status).toBe(400);
  });

  it("domains lets only those domains register (any case), and their users log in only once verified", async () => {
    const t = await newTenant();
    const set = await setSignup(t, { mode: "domains", domains: ["Acme.COM", "acme.co.uk"] });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.signup).toEqual({ mode: "domains", domains: ["acme.com", "acme.co.uk"] });

    const outsider = await attempt(t, "eve@evil.example");
    expect({ status: outsider.status, code: outsider.body.code }).toEqual({ status: 403, code: "signup_closed" });
    // A lookalike subdomain is another domain.
    expect((await attempt(t, "eve@acme.com.evil.example")).status).toBe(403);
    expect((await attempt(t, "eve@sub.acme.com")).status).toBe(403);

    const user = await register(t.slug, "Ann@ACME.com");
    expect(user.email).toBe("ann@acme.com");
    const early = await call("/api/v1/auth/login", {
      tenant: t.slug,
      body: { email: "ann@acme.com", password: PASSWORD },
    });
    expect(early.status).toBe(403);
    expect(early.body.code).toBe("email_not_verified");
    const mail = await mailTo(t.slug, "ann@acme.com");
    expect((await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token: tokenIn(mail) } })).status).toBe(
      204,
    );
    await login(t.slug, "ann@acme.com");
  });

  it("validates the policy: a known mode, domains that are domains, at least one for mode domains", async () => {
    const t = await newTenant();
    const cases: [unknown, string][] = [
      [{ mode: "members_only", domains: [] }, "body.signup.mode"],
      [{ mode: "domains", domains: [] }, "body.signup.domains"],
      [{ mode: "domains", domains: ["not a domain"] }, "body.signup.domains.0"],
      [{ mode: "domains", domains: ["localhost"] }, "body.signup.domains.0"],
      [{ mode: "domains" }, "body.signup.domains"],
    ];
    for (const [signup, path] of cases) {
      const res = await setSignup(t, signup);
      expect(res.status, JSON.stringify(signup)).toBe(400);
      expect(res.body.code).toBe("validation_failed");
      expect((res.body.errors as { path: string }[]).map((e) => e.path)).toContain(path);
    }
    expect((await call("/api/v1/admin/settings", { token: t.adminKey })).body.signup).toEqual({
      mode: "open",
      domains: [],
    });
  });

  it("needs domains only for mode domains; a change replaces the policy whole, so switching away drops them", async () => {
    const t = await newTenant();
    const closed = await setSignup(t, { mode: "invite_only" });
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    expect(closed.body.signup).toEqual({ mode: "invite_only", domains: [] });

    expect((await setSignup(t, { mode: "domains", domains: ["acme.com"] })).status).toBe(200);
    const open = await setSignup(t, { mode: "open" });
    expect(open.status, JSON.stringify(open.body)).toBe(200);
    expect(open.body.signup).toEqual({ mode: "open", domains: [] });
    // The old list does not come back with the mode: it has to be named again.
    const back = await setSignup(t, { mode: "domains" });
    expect(back.status).toBe(400);
    expect((await call("/api/v1/admin/settings", { token: t.adminKey })).body.signup).toEqual({
      mode: "open",
      domains: [],
    });
  });

  it("records each refusal as identity.signup.refused, without the email", async () => {
    const t = await newTenant();
    await setSignup(t, { mode: "invite_only", domains: [] });
    expect((await attempt(t, "someone@example.com")).status).toBe(403);
    let items: { action: string; detail?: unknown }[] = [];
    for (let i = 0; i < 100 && items.length === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      items = (await call("/api/v1/admin/audit?action=identity.signup.refused", { token: t.adminKey })).body
        .items as typeof items;
    }
    expect(items).toHaveLength(1);
    expect(JSON.stringify(items)).not.toContain("someone@example.com");
  });
});
