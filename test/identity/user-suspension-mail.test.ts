import { describe, expect, it } from "vitest";
import { call, mailSettled, mailsTo, mailTo, newTenant, newUser, tokenIn } from "./helpers";

const suspend = (token: string, id: string) =>
  call(`/api/v1/users/${id}/suspend`, { token, method: "POST", body: { reason: "under review" } });

// A mail asked for a suspended account carries no token (it could not work) but a notice saying why,
// to the mailbox that would have held the token: docs/identity.md#suspending-a-member.
describe("mail asked for a suspended account", () => {
  it("password reset: 202 as for any address, a notice without a token, and no reset stored", async () => {
    const t = await newTenant("suspend-mail-reset");
    const u = await newUser(t.slug);
    expect((await suspend(t.adminKey, u.id)).status).toBe(200);

    const res = await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: u.email } });
    expect(res.status).toBe(202);
    const unknown = await call("/api/v1/auth/password-reset", {
      tenant: t.slug,
      body: { email: "nobody@example.com" },
    });
    expect(unknown.status).toBe(202);

    const notice = await mailTo(t.slug, u.email, "Your account at");
    expect(notice.subject).toContain("is suspended");
    expect(notice.body).toContain("administrator");
    expect(tokenIn(notice)).toBe("");
    // The suspension's reason is the tenant's note, not the mail's.
    expect(notice.body).not.toContain("under review");
    // The notice's arrival tells nothing of a reset mail queued beside it: settled first.
    await mailSettled(t.slug);
    const all = await mailsTo(t.slug, u.email, 1);
    expect(all.filter((m) => m.subject.startsWith("Reset"))).toEqual([]);
  });

  it("verification resend: the same notice, no verification token", async () => {
    const t = await newTenant("suspend-mail-verify");
    const u = await newUser(t.slug);
    expect((await suspend(t.adminKey, u.id)).status).toBe(200);

    const res = await call("/api/v1/auth/verify-email/resend", { tenant: t.slug, body: { email: u.email } });
    expect(res.status).toBe(202);
    const notice = await mailTo(t.slug, u.email, "Your account at");
    expect(tokenIn(notice)).toBe("");
    // Only the registration's verification mail reached the address, none for the resend. Waited
    // for by its subject: the queue delivers in no particular order (a retried send lands late), so
    // the notice may be in the mailbox before it. Counted once mail is settled: one a batch late
    // would otherwise pass.
    await mailSettled(t.slug);
    const verifications = await mailsTo(t.slug, u.email, 1, "Verify");
    expect(verifications).toHaveLength(1);
  });

  it("a verification link mailed before the suspension is refused unspent, and works once reactivated", async () => {
    // It verified the address of an account nobody may sign in with, where a reset link of the same
    // mailbox was refused (403 account_suspended, unspent).
    const t = await newTenant("suspend-mail-verify-old");
    const u = await newUser(t.slug);
    const token = tokenIn(await mailTo(t.slug, u.email, "Verify"));
    expect((await suspend(t.adminKey, u.id)).status).toBe(200);
    const refused = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token } });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.code).toBe("account_suspended");
    const user = await call(`/api/v1/users/${u.id}`, { token: t.adminKey });
    expect(user.body.email_verified).toBe(false);

    const back = await call(`/api/v1/users/${u.id}/reactivate`, { token: t.adminKey, method: "POST" });
    expect(back.status).toBe(200);
    expect((await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token } })).status).toBe(204);
  });
});
