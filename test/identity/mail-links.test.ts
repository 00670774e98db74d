// The mails a tenant's users get link into the tenant's app when it set links (settings
// `mail_links`): without them the mail tells the reader to make an API call, which means
// nothing to the users of an app.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { linkFor } from "../../src/modules/identity/mail-links";
import { auditOf, call, mailTo, newTenant, newUser, PASSWORD, register } from "./helpers";

const LINKS = {
  verify_email: "https://app.example.com/verify#token={token}",
  password_reset: "http://127.0.0.1:5173/reset#token={token}",
  invitation: "https://app.example.com/join#token={token}",
};

const setLinks = (adminKey: string, mail_links: unknown) =>
  call("/api/v1/admin/settings", { method: "PATCH", token: adminKey, body: { mail_links } });

describe("mail links into the tenant's app", () => {
  it("verification, reset and invitation mail carry the tenant's link with the token, and the token works", async () => {
    const t = await newTenant("links");
    const set = await setLinks(t.adminKey, LINKS);
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.mail_links).toEqual(LINKS);

    await register(t.slug, "ada@example.com");
    const verify = await mailTo(t.slug, "ada@example.com", "Verify");
    const link = /https:\/\/app\.example\.com\/verify#token=(plv_[A-Za-z0-9_-]+)/.exec(verify.body);
    expect(link, verify.body).not.toBeNull();
    expect(verify.body).not.toContain("POST /api/v1");
    expect(verify.html).toContain(`<a href="${link?.[0]}"`);
    const verified = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token: link?.[1] } });
    expect(verified.status).toBe(204);

    expect(
      (await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: "ada@example.com" } })).status,
    ).toBe(202);
    const reset = await mailTo(t.slug, "ada@example.com", "Reset");
    const resetToken = /http:\/\/127\.0\.0\.1:5173\/reset#token=(plp_[A-Za-z0-9_-]+)/.exec(reset.body)?.[1];
    expect(resetToken, reset.body).toBeDefined();
    const confirmed = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: resetToken, password: `${PASSWORD} again` },
    });
    expect(confirmed.status).toBe(204);

    const invited = await call("/api/v1/admin/invitations", {
      token: t.adminKey,
      body: { email: "bo@example.com", roles: ["viewer"] },
    });
    expect(invited.status).toBe(201);
    const invitation = await mailTo(t.slug, "bo@example.com", "You are invited");
    expect(invitation.body).toMatch(/https:\/\/app\.example\.com\/join#token=pli_[A-Za-z0-9_-]+/);
  });

  it("without links the mail names the API call, as before; a change replaces the links whole", async () => {
    const t = await newTenant("links");
    const initial = await call("/api/v1/admin/settings", { token: t.adminKey });
    expect(initial.body.mail_links).toEqual({ verify_email: null, password_reset: null, invitation: null });
    expect((await setLinks(t.adminKey, LINKS)).status).toBe(200);
    const changed = await setLinks(t.adminKey, { password_reset: LINKS.password_reset });
    expect(changed.body.mail_links).toEqual({
      verify_email: null,
      password_reset: LINKS.password_reset,
      invitation: null,
    });
    await register(t.slug, "cy@example.com");
    const verify = await mailTo(t.slug, "cy@example.com", "Verify");
    expect(verify.body).toContain("POST /api/v1/auth/verify-email");
    expect(verify.body).not.toContain("https://app.example.com");
  });

  it("refuses a link that is not https with {token} once, naming each", async () => {
    const t = await newTenant("links");
    const bad = await setLinks(t.adminKey, {
      verify_email: "myapp://verify?token={token}", // any app on a phone may claim a scheme
      password_reset: "http://app.example.com/reset#{token}", // http only to a loopback host
      invitation: "https://app.example.com/join", // no {token}
    });
    expect(bad.status).toBe(400);
    const paths = (bad.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual([
      "body.mail_links.invitation",
      "body.mail_links.password_reset",
      "body.mail_links.verify_email",
    ]);
    for (const link of [
      "https://u:p@app.example.com/{token}",
      "https://app.example.com/{token}/{token}",
      "javascript:x({token})",
    ]) {
      const res = await setLinks(t.adminKey, { verify_email: link });
      expect(res.status, link).toBe(400);
    }
    expect((await call("/api/v1/admin/settings", { token: t.adminKey })).body.version).toBe(1);
  });

  it("refuses a link with the token in its path or query string, naming the field and why; a fragment after a route is fine", async () => {
    const t = await newTenant("links");
    const bad = await setLinks(t.adminKey, {
      verify_email: "https://app.example.com/verify?token={token}",
      password_reset: "https://app.example.com/reset/{token}",
      invitation: "https://app.example.com/join#token={token}",
    });
    expect(bad.status, JSON.stringify(bad.body)).toBe(400);
    const errors = bad.body.errors as { path: string; message: string }[];
    expect(errors.map((e) => e.path).sort()).toEqual([
      "body.mail_links.password_reset",
      "body.mail_links.verify_email",
    ]);
    for (const e of errors) expect(e.message).toMatch(/fragment.*Referer/);
    expect((await call("/api/v1/admin/settings", { token: t.adminKey })).body.version).toBe(1);
    // A single-page app that routes on the fragment keeps its route: the token is still after the #.
    const spa = await setLinks(t.adminKey, { invitation: "https://app.example.com/#/join?token={token}" });
    expect(spa.status, JSON.stringify(spa.body)).toBe(200);
    expect(spa.body).not.toHaveProperty("warnings");
  });

  it("a link stored before the fragment rule keeps being mailed, and the settings warn about it until it is changed", async () => {
    const t = await newTenant("links");
    const legacy = "https://app.example.com/verify?token={token}";
    // As a PATCH accepted it before the rule: the directory stores what the route let through.
    const stored = await directory(env, t.id).updateSettings({
      ctx: { now: new Date().toISOString(), actor: { kind: "platform", id: null }, requestId: null },
      patch: { mail_links: { verify_email: legacy, password_reset: null, invitation: null } },
    });
    expect(stored.ok).toBe(true);
    const read = await call("/api/v1/admin/settings", { token: t.adminKey });
    expect(read.status).toBe(200);
    expect(read.body.mail_links).toMatchObject({ verify_email: legacy });
    const warnings = read.body.warnings as { field: string; message: string }[];
    expect(warnings.map((w) => w.field)).toEqual(["mail_links.verify_email"]);
    expect(warnings[0]?.message).toMatch(/fragment/);
    // Still mailed: an app that reads the token from the query keeps working until it moves.
    await register(t.slug, "legacy@example.com");
    expect((await mailTo(t.slug, "legacy@example.com", "Verify")).body).toMatch(
      /https:\/\/app\.example\.com\/verify\?token=plv_/,
    );
    // Setting it again as it is is refused like any new one; moved to the fragment, the warning goes.
    expect((await setLinks(t.adminKey, { verify_email: legacy })).status).toBe(400);
    const moved = await setLinks(t.adminKey, { verify_email: "https://app.example.com/verify#token={token}" });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).not.toHaveProperty("warnings");
  });

  it("refuses a link the URL parser would rewrite, or with {token} in the host, so the mail carries the link that was checked", async () => {
    const t = await newTenant("links");
    for (const link of [
      // the parser drops CR, LF and tab: the text mail would carry them
      "https://app.example.com/\r\n{token}",
      "https://app.example.com/\t{token}",
      // a space is encoded in the checked URL but a text mail shows two links, the second an
      // http one to another host (or a custom scheme) that the check never saw
      "http://127.0.0.1/ http://evil.example/{token}",
      "https://app.example.com/ myapp://x/{token}",
      // a backslash is a slash to the parser, the start of userinfo to others
      "https://app.example.com\\@evil.example/{token}",
      // the host as mailed is not the host checked: Unicode (shown as punycode), capitals, hex IPs
      "https://bücher.example/{token}",
      "HTTPS://APP.example.com/{token}",
      "http://0x7f000001/{token}",
      // the token would be sent to a DNS resolver, and the host lowercases it
      "https://{token}.app.example.com/",
      "https://{token}/",
    ]) {
      const res = await setLinks(t.adminKey, { verify_email: link });
      expect(res.status, link).toBe(400);
    }
    expect((await call("/api/v1/admin/settings", { token: t.adminKey })).body.version).toBe(1);
  });

  it("only an owner changes the links: an admin, who cannot touch owners, could send an owner's reset token to a host of theirs", async () => {
    const t = await newTenant("links");
    const admin = await newUser(t.slug);
    const grant = await call(`/api/v1/admin/users/${admin.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(grant.status).toBe(204);
    const byAdmin = await setLinks(admin.access_token, {
      password_reset: "https://collector.example/reset#token={token}",
    });
    expect(byAdmin.status, JSON.stringify(byAdmin.body)).toBe(403);
    expect(byAdmin.body.code).toBe("forbidden");
    const settings = await call("/api/v1/admin/settings", { token: admin.access_token });
    expect(settings.body.mail_links).toEqual({ verify_email: null, password_reset: null, invitation: null });
    expect(settings.body.version).toBe(1);
    // The rest of the settings stay the admin's, and so does a PATCH that leaves the links as they are.
    const other = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: admin.access_token,
      body: { require_verified_email: true, mail_links: {} },
    });
    expect(other.status, JSON.stringify(other.body)).toBe(200);
    expect((await setLinks(t.adminKey, LINKS)).status).toBe(200);
  });

  it("the audit entry of a change says where each link now leads, not only that the links changed", async () => {
    const t = await newTenant("links");
    expect((await setLinks(t.adminKey, LINKS)).status).toBe(200);
    const [set] = await auditOf(t.adminKey, "identity.settings.updated", 1);
    expect(set?.detail).toEqual({
      fields: ["mail_links"],
      "mail_links.verify_email": LINKS.verify_email,
      "mail_links.password_reset": LINKS.password_reset,
      "mail_links.invitation": LINKS.invitation,
    });
    // A link longer than an audit fact is cut, its host first: where the token goes stays readable.
    const long = `https://reset.example.net/${"a".repeat(300)}#token={token}`;
    expect((await setLinks(t.adminKey, { password_reset: long })).status).toBe(200);
    const entries = await auditOf(t.adminKey, "identity.settings.updated", 2);
    const changed = entries.find((e) => e.detail?.["mail_links.invitation"] === null);
    expect(changed?.detail).toEqual({
      fields: ["mail_links"],
      "mail_links.verify_email": null,
      "mail_links.password_reset": `${long.slice(0, 255)}…`,
      "mail_links.invitation": null,
    });
  });

  it("a stored link the check now refuses is left out of the mail, which names the API call", () => {
    // A template saved before the check was tightened stays in the settings; it must not be mailed.
    expect(linkFor("https://{token}.app.example.com/", "plv_abc")).toBeNull();
    expect(linkFor("http://127.0.0.1/ http://evil.example/{token}", "plv_abc")).toBeNull();
    expect(linkFor("https://app.example.com/verify#token={token}", "plv_abc")).toBe(
      "https://app.example.com/verify#token=plv_abc",
    );
    expect(linkFor(null, "plv_abc")).toBeNull();
  });
});
