// An invitation's email is personal data of someone who may never have joined. A role that only
// reads (the built-in viewer: every `*.read`) needs to know how many invitations there are and
// where they stand, not the addresses of people who were invited and declined, were revoked, or
// let the invitation expire: once an invitation ended, only who may create and revoke
// invitations sees its address; the others see it masked (docs/identity.md#invitations).
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { call, callerOf, mailTo, newKey, newTenant, newUser, tokenIn } from "./helpers";

type Tenant = Awaited<ReturnType<typeof newTenant>>;
type Item = { id: string; email: string; status: string };

async function invite(t: Tenant, email: string, send = call) {
  const res = await send("/api/v1/admin/invitations", { token: t.adminKey, body: { email, roles: ["viewer"] } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return String(res.body.id);
}

/** A user holding only the built-in viewer role. */
async function viewerOf(t: Tenant): Promise<string> {
  const user = await newUser(t.slug);
  for (const [method, role] of [
    ["PUT", "viewer"],
    ["DELETE", "member"],
  ] as const) {
    const res = await call(`/api/v1/admin/users/${user.id}/roles/${role}`, { method, token: t.adminKey });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
  }
  return user.access_token;
}

/** What `token` sees of the invitations of `status`: the list's items and each one's GET. */
async function seen(token: string, status: string, send = call): Promise<Item[]> {
  const list = await send(`/api/v1/admin/invitations?status=${status}`, { token });
  expect(list.status, JSON.stringify(list.body)).toBe(200);
  const items = list.body.items as Item[];
  for (const item of items) {
    const one = await send(`/api/v1/admin/invitations/${item.id}`, { token });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(one.body).toEqual(item);
  }
  return items;
}

describe("who sees an invitation's email", () => {
  it("a viewer sees pending ones' addresses, and ended ones (revoked, accepted) masked; the administrator sees them whole", async () => {
    const t = await newTenant("inv-privacy");
    const viewer = await viewerOf(t);
    const pending = await invite(t, "pending.person@example.com");
    const revoked = await invite(t, "declined.person@example.com");
    expect((await call(`/api/v1/admin/invitations/${revoked}`, { method: "DELETE", token: t.adminKey })).status).toBe(
      204,
    );
    const accepted = await invite(t, "joined.person@example.com");
    const token = tokenIn(await mailTo(t.slug, "joined.person@example.com", "You are invited"));
    const joined = await call("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token, password: "a long enough passphrase", name: "Joined" },
    });
    expect(joined.status, JSON.stringify(joined.body)).toBe(200);

    expect(await seen(viewer, "pending")).toMatchObject([{ id: pending, email: "pending.person@example.com" }]);
    expect(await seen(viewer, "revoked")).toMatchObject([{ id: revoked, email: "d***@example.com" }]);
    expect(await seen(viewer, "accepted")).toMatchObject([{ id: accepted, email: "j***@example.com" }]);

    expect(await seen(t.adminKey, "revoked")).toMatchObject([{ id: revoked, email: "declined.person@example.com" }]);
    expect(await seen(t.adminKey, "accepted")).toMatchObject([{ id: accepted, email: "joined.person@example.com" }]);
  });

  it("an expired one is masked too, and the rule is the permission to manage invitations, whatever the credential", async () => {
    const clock = manualClock(systemClock.now());
    const send = callerOf(testApp(modules, {}, MIGRATIONS, clock).fetch);
    const t = await newTenant("inv-privacy");
    const reader = await newKey(t.adminKey, ["identity.invitation.read"], "reader");
    const manager = await newKey(t.adminKey, ["identity.invitation.read", "identity.invitation.write"], "manager");
    const late = await invite(t, "x@example.com", send);
    clock.advance(7 * 86_400_000);

    expect(await seen(reader.key, "expired", send)).toMatchObject([{ id: late, email: "x***@example.com" }]);
    expect(await seen(manager.key, "expired", send)).toMatchObject([{ id: late, email: "x@example.com" }]);
  });
});
