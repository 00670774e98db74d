// Identity flows of the Prism sweep's valid requests (valid.ts runs them in order):
// invitations and two-factor, each of their operations once with a valid request.
import { Secret, TOTP } from "otpauth";
import type { Call, Sweep } from "./sweep";
import { type Json, mailedToken, PASSWORD, SLUG, str } from "./valid";

/** An invitation accepted, another revoked: every invitation operation once with a valid request. */
export async function invitations(
  s: Sweep,
  admin: Omit<Call, "op" | "label" | "expect">,
  anon: Omit<Call, "op" | "label" | "expect">,
) {
  const invite = (address: string) =>
    s.need<Json>({
      ...admin,
      op: "POST /api/v1/admin/invitations",
      label: "admin key",
      expect: 201,
      json: { email: address, roles: ["viewer"] },
    });
  await invite("invitee@example.com");
  await s.call({ ...admin, op: "GET /api/v1/admin/invitations", label: "admin key", expect: 200 });
  await s.call({
    ...anon,
    op: "POST /api/v1/auth/accept-invitation",
    label: "mailed token",
    expect: 200,
    json: { token: await mailedToken(s, SLUG, "invitee@example.com", "invited"), password: PASSWORD, name: "Invitee" },
  });
  const revoked = await invite("uninvited@example.com");
  await s.call({
    ...admin,
    op: "GET /api/v1/admin/invitations/{id}",
    label: "admin key",
    expect: 200,
    params: { id: str(revoked, "id") },
  });
  await s.call({
    ...admin,
    op: "DELETE /api/v1/admin/invitations/{id}",
    label: "admin key",
    expect: 204,
    params: { id: str(revoked, "id") },
  });
}

/**
 * Two-factor: enrol, confirm with a code of the wall clock's step, log in with a
 * recovery code, disable with another, then an admin's reset of a pending enrolment.
 * Recovery codes, not TOTP codes, after the first: no code waits for the next 30 s step.
 */
export async function twoFactor(
  s: Sweep,
  who: {
    anon: { intent: "valid"; headers: Record<string, string> };
    jwt: { intent: "valid"; headers: Record<string, string> };
    admin: { intent: "valid"; headers: Record<string, string> };
    userId: string;
    login: () => Promise<Json>;
  },
): Promise<void> {
  const { anon, jwt, admin, userId } = who;
  const enrolment = await s.need<Json>({ ...jwt, op: "POST /api/v1/me/two-factor", label: "JWT", expect: 201 });
  const totp = new TOTP({
    algorithm: "SHA1",
    digits: 6,
    period: 30,
    secret: Secret.fromBase32(str(enrolment, "secret")),
  });
  const confirmed = await s.need<Json>({
    ...jwt,
    op: "POST /api/v1/me/two-factor/confirm",
    label: "first code",
    expect: 200,
    json: { code: totp.generate({ timestamp: Date.now() }) },
  });
  const codes = confirmed.recovery_codes as string[];
  await s.call({ ...jwt, op: "GET /api/v1/me/two-factor", label: "JWT", expect: 200 });
  const challenge = await who.login();
  await s.call({
    ...anon,
    op: "POST /api/v1/auth/two-factor",
    label: "recovery code",
    expect: 200,
    json: { challenge: str(challenge, "challenge"), recovery_code: codes[0] },
  });
  await s.call({
    ...jwt,
    op: "DELETE /api/v1/me/two-factor",
    label: "recovery code",
    expect: 204,
    json: { recovery_code: codes[1] },
  });
  await s.need<Json>({ ...jwt, op: "POST /api/v1/me/two-factor", label: "JWT, again", expect: 201 });
  await s.call({
    ...admin,
    op: "DELETE /api/v1/users/{id}/two-factor",
    label: "admin key",
    expect: 204,
    params: { id: userId },
  });
}
