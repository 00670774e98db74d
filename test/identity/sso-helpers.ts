// A tenant with a single sign-on provider, and sign-ins as the Worker hands them to the
// directory once it verified the provider's answer: what the SSO link and unlink tests share.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { sha256Hex } from "../../src/kernel/crypto";
import { directory } from "../../src/modules/identity/directory/contract";
import type { platformAt } from "./two-factor-helpers";

export const ISSUER = "https://login.example.com";
export const CLIENT_ID = "plinth";

/**
 * The stored password hash of `userId`, as the Worker verifies a password against before an
 * explicit link (`link.verifiedHash` of ssoBegin); "" for an account with none.
 */
export const verifiedHashOf = async (tenantId: string, userId: string) =>
  (await directory(env, tenantId).passwordHashOf(userId)) ?? "";

/**
 * The helpers over one test platform. `adminPermissions` is what the Worker sends as the
 * permissions `require_two_factor_for_admins` covers.
 *
 * @example
 * const { tenantWithSso, signIn } = ssoKit(p, "sso-link", ["admin.audit.read"]);
 */
export function ssoKit(p: ReturnType<typeof platformAt>, prefix: string, adminPermissions: string[] = []) {
  async function tenantWithSso() {
    const t = await p.tenant(prefix);
    const put = await p.call("/api/v1/admin/sso", {
      method: "PUT",
      token: t.adminKey,
      body: {
        issuer: ISSUER,
        client_id: CLIENT_ID,
        client_secret: "s3cret-of-the-provider",
        allowed_domains: ["example.com"],
      },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    return t;
  }

  /**
   * A sign-in the Worker has verified, as it reaches the directory (`linkUserId`: an explicit link's
   * account, `linkRecoveryHash` the recovery code it was begun with, `linkSecondFactor` whether its
   * request proved a second factor: by default a link's did), with the refresh token of the
   * session it starts and the two-factor challenge it may answer instead, as the callback hands them out.
   */
  const signInWithToken = async (
    tenantId: string,
    subject: string,
    email: string,
    linkUserId: string | null = null,
    linkRecoveryHash: string | null = null,
    linkSecondFactor = linkUserId !== null,
  ) => {
    const refreshToken = `plr_${crypto.randomUUID()}`;
    const challenge = `plc_${crypto.randomUUID()}`;
    const result = await directory(env, tenantId).ssoLogin({
      linkUserId,
      linkRecoveryHash,
      linkSecondFactor,
      adminPermissions,
      challengeHash: await sha256Hex(challenge),
      challengeExpiresAt: new Date(p.clock.now().getTime() + 300_000).toISOString(),
      ctx: { now: p.clock.now().toISOString(), actor: { kind: "anonymous", id: null }, requestId: null },
      email,
      name: "Someone",
      issuer: ISSUER,
      clientId: CLIENT_ID,
      subject,
      roles: ["member"],
      userId: `u-${subject}`,
      // A sign-in carries the session it starts; an explicit link none.
      session:
        linkUserId === null ? { familyId: `f-${crypto.randomUUID()}`, tokenHash: await sha256Hex(refreshToken) } : null,
      userAgent: null,
    });
    return { result, refreshToken, challenge };
  };

  /** A sign-in the Worker has verified, as it reaches the directory (`linkUserId`: an explicit link's account). */
  const signIn = async (tenantId: string, subject: string, email: string, linkUserId: string | null = null) =>
    (await signInWithToken(tenantId, subject, email, linkUserId)).result;

  /** The directory's linked identities, by subject. */
  const linksOf = (tenantId: string) =>
    runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) =>
      state.storage.sql
        .exec<{ subject: string; user_id: string }>("select subject, user_id from sso_identities order by subject")
        .toArray(),
    );

  return { tenantWithSso, signIn, signInWithToken, linksOf };
}
