import { rpcArgs } from "../../src/kernel/durable/rpc";
import type { Origin } from "../../src/kernel/events/origin";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { type RoleUses, ssoFieldsNaming } from "../../src/modules/identity/directory/role-uses";
import { changesTrust, SsoDirectory } from "../../src/modules/identity/directory/sso";
import type { SsoOrigin } from "../../src/modules/identity/directory/two-factor";
import { denied, fail, ok } from "../../src/modules/identity/directory/types";
import { OWNER } from "../../src/modules/identity/policy";
import { emailDomain } from "../../src/modules/identity/signup";
import { type LinkFacts, mayLinkByEmail, mayProvision } from "../../src/modules/identity/sso/mapping";
import type { In, Out } from "./base";
import { DirectoryMembership } from "./membership";

/**
 * The directory's single sign-on (OpenID Connect): the tenant's identity
 * provider, the states callbacks spent (a sign-in under way is sealed into its
 * `state`, not stored: sso/state.ts),
 * and the sign-in itself: an existing user by email, or one provisioned just
 * in time when the provider or the signup policy allows it.
 */
export class DirectorySso extends DirectoryMembership {
  protected readonly sso = new SsoDirectory(this.store);

  ssoProvider(): Out<"ssoProvider"> {
    return this.sso.provider();
  }

  /**
   * Replaces the provider. Only an owner changes who may vouch for whom (issuer, client, domains, app
   * redirects); the caller must hold every permission of the roles it maps (as if granting them).
   */
  putSso(input: In<"putSso">): Out<"putSso"> {
    const { ctx, config, sealedSecret, expectedVersion } = rpcArgs(DirectoryRpc, "putSso", input);
    if (changesTrust(this.sso.provider()?.config ?? null, config)) {
      const refusal = this.authority.check(ctx, { type: "sso_trust.change" });
      if (refusal) return denied(refusal);
    }
    const named = [...new Set([config.default_role, ...config.role_mapping.map((r) => r.role)])];
    for (const name of named) {
      const role = this.roles.get(name);
      if (!role) return fail("no_role");
      const refusal = this.authority.check(ctx, { type: "role.create", permissions: role.permissions });
      if (refusal) return denied(refusal);
    }
    return this.committed(this.sso.put(ctx, config, sealedSecret, expectedVersion));
  }

  deleteSso(input: In<"deleteSso">): Out<"deleteSso"> {
    const { ctx } = rpcArgs(DirectoryRpc, "deleteSso", input);
    return this.committed(this.sso.remove(ctx));
  }

  /** The provider maps sign-ins to roles: deleting one of them would provision people with fewer rights. */
  protected override roleUses(name: string, now: string): RoleUses {
    const provider = this.sso.provider();
    return { ...super.roleUses(name, now), sso: provider ? ssoFieldsNaming(provider.config, name) : [] };
  }

  /**
   * The directory's side of an explicit link's start: nothing is stored (the sign-in under way is sealed
   * into its `state`, sso/state.ts). The account (`link`) needs, with two-factor on, a current code or an
   * unused recovery code: an access token alone must not tie a new way in to an account its second
   * factor protects. A code is spent here (a new one comes every 30 s); a recovery code is only checked,
   * and spent by the callback that links (ssoLogin), so a refused or abandoned callback does not cost one
   * of the few the user has. An account the tenant requires two-factor of and that has not enrolled is
   * refused (`two_factor_required`): the callback would refuse its sign-in as login does. Answers what
   * the state carries to the callback: whether a second factor was proven, and the recovery code's hash.
   */
  ssoBegin(input: In<"ssoBegin">): Out<"ssoBegin"> {
    const { ctx, link, adminPermissions } = rpcArgs(DirectoryRpc, "ssoBegin", input);
    if (!this.sso.provider()) return fail("not_configured");
    if (!this.store.user(link.userId)) return fail("not_found");
    // The password was verified off this thread: a reset committed meanwhile (an administrator's
    // voids it) must not let its old holder tie the account to an identity of theirs.
    if (this.store.passwordHashOf(link.userId) !== link.verifiedHash) return fail("password_changed");
    if (!this.twoFactor.enabled(link.userId)) {
      if (this.twoFactor.mustEnrol(link.userId, adminPermissions)) return fail("two_factor_required");
      return ok({ secondFactor: false, recoveryHash: null });
    }
    const proof = link.proof;
    if (!proof) return fail("wrong_proof");
    const checked = this.committed(
      this.store.tx(() =>
        "recoveryHash" in proof
          ? this.twoFactor.recoveryUsable(ctx, link.userId, proof.recoveryHash, "sso_link")
          : this.twoFactor.verify(ctx, link.userId, proof, "sso_link").ok,
      ),
    );
    if (!checked) return fail("wrong_proof");
    return ok({ secondFactor: true, recoveryHash: "recoveryHash" in proof ? proof.recoveryHash : null });
  }

  /**
   * A user unlinks their own identities. With two-factor on, the proof is checked and spent first, as
   * deleting the account asks: an access token alone must not change how the account signs in.
   * Nothing linked is `not_found`, before any code is spent.
   */
  ssoUnlinkOwn(input: In<"ssoUnlinkOwn">): Out<"ssoUnlinkOwn"> {
    const { ctx, userId, proof, verifiedHash } = rpcArgs(DirectoryRpc, "ssoUnlinkOwn", input);
    if (!this.store.user(userId) || !this.sso.linked(userId)) return fail("not_found");
    // Verified off this thread: a password reset or changed meanwhile proves nothing now.
    if (this.store.passwordHashOf(userId) !== verifiedHash) return fail("password_changed");
    if (this.twoFactor.enabled(userId)) {
      if (!proof) return fail("wrong_proof");
      const checked = this.committed(this.store.tx(() => this.twoFactor.verify(ctx, userId, proof, "sso_unlink")));
      if (!checked.ok) return fail("wrong_proof");
    }
    this.sso.unlink(ctx, userId, "self");
    return this.committed(ok(null));
  }

  /** An administrator unlinks a user's identities: the caller must hold the user's permissions; only an owner unlinks an owner. */
  ssoUnlinkUser(input: In<"ssoUnlinkUser">): Out<"ssoUnlinkUser"> {
    const { ctx, userId } = rpcArgs(DirectoryRpc, "ssoUnlinkUser", input);
    const user = this.authority.user(userId);
    if (!user) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "user.sso.unlink", user });
    if (refusal) return denied(refusal);
    if (!this.sso.linked(userId)) return fail("not_found");
    this.sso.unlink(ctx, userId, "admin");
    return this.committed(ok(null));
  }

  ssoStateSpent(input: In<"ssoStateSpent">): Out<"ssoStateSpent"> {
    return this.sso.spent(rpcArgs(DirectoryRpc, "ssoStateSpent", input).stateHash);
  }

  /** A callback whose code the provider accepted spends its state (single use: a replay is refused). */
  ssoSpendState(input: In<"ssoSpendState">): Out<"ssoSpendState"> {
    const { ctx, stateHash, expiresAt } = rpcArgs(DirectoryRpc, "ssoSpendState", input);
    return this.committed(this.sso.spend(ctx.now, stateHash, expiresAt));
  }

  /**
   * A sign-in the Worker has verified (ID token, verified email, allowed
   * domain): the user of that email, or a new one when `mayProvision` allows;
   * then a session, as password login starts one, or the second step password
   * login asks of the account (`secondStep`). An explicit link (`linkUserId`) links and starts no
   * session (`session: false`).
   */
  ssoLogin(input: In<"ssoLogin">): Out<"ssoLogin"> {
    const args = rpcArgs(DirectoryRpc, "ssoLogin", input);
    const { ctx, email, name, issuer, clientId, subject, roles, userId, session, userAgent, linkUserId } = args;
    const provider = this.sso.provider();
    // The provider the Worker verified the ID token against, replaced or deleted while it was at the token
    // endpoint: its state was valid, for a provider that is gone, so the sign-in starts again (answered as
    // a callback of a replaced provider is at its state and at its challenge: 400 sso_state_invalid).
    if (!provider || !this.sso.isCurrent(issuer, clientId)) return fail("provider_replaced");
    // The Worker checked the email's domain against the provider as it read it before the token endpoint:
    // allowed_domains narrowed since refuses it here, as the callback would now.
    const domain = emailDomain(email);
    if (!this.sso.allowsDomain(domain)) return fail("domain_not_allowed");
    // The provider's identity decides first: once linked, its account signs in whatever email the provider
    // shows now. An unlinked identity links by email, unless that account is linked to another identity
    // (two people of the provider must never reach one account).
    const linked = this.sso.linkedUser(issuer, subject);
    if (linkUserId !== null) {
      const refusal = this.explicitLinkRefusal(ctx, { issuer, email, linked, linkUserId });
      if (refusal) return this.committed(fail(refusal));
    }
    const byEmail = linked || linkUserId ? null : this.store.credentials(email);
    if (byEmail && this.sso.hasIdentity(issuer, byEmail.userId)) {
      this.refuseSignIn(ctx, byEmail.userId, issuer, "identity_conflict");
      return this.committed(fail("identity_conflict"));
    }
    if (byEmail && !mayLinkByEmail(this.linkFacts(byEmail.userId, args.adminPermissions))) {
      this.refuseSignIn(ctx, byEmail.userId, issuer, "link_required");
      return this.committed(fail("link_required"));
    }
    const existing = linked ? { userId: linked } : linkUserId ? { userId: linkUserId } : byEmail;
    // A suspended account signs in by no way: the provider vouched for its person, who is told why.
    if (existing && this.store.suspended(existing.userId)) {
      this.refuseSignIn(ctx, existing.userId, issuer, "suspended");
      return this.committed(fail("suspended"));
    }
    if (!existing) {
      const { signup } = this.tenantSettings.current();
      if (!mayProvision(signup, provider.config.jit, email)) {
        this.store.tx(() =>
          this.store.emit(ctx, "signups", { type: "identity.signup.refused", data: { mode: signup.mode } }),
        );
        return this.committed(fail("signup_closed"));
      }
    }
    // A role deleted before deletion checked the SSO configuration refuses the provisioning rather than
    // creating the account with fewer roles than the mapping says, as a void invitation is refused.
    const missing = existing ? [] : roles.filter((r) => this.roles.get(r) === null);
    if (missing.length > 0) {
      // For the tenant's administrators (the audit log names the roles); the person signing in is told nothing of them.
      this.store.tx(() =>
        this.store.emit(
          ctx,
          "sso",
          { type: "identity.sso.refused", data: { user_id: null, issuer, reason: "role_missing", roles: missing } },
          { reason: "role_missing", roles: missing },
        ),
      );
      return this.committed({ ok: false, error: "role_missing", roles: missing });
    }
    const id = existing?.userId ?? userId;
    const provisioned = existing === null;
    // From here the person signing in is the account's (the provider vouched for its identity, as a
    // correct password does): they act in what is recorded, as in password login's.
    const as: Origin = { ...ctx, actor: { kind: "user", id } };
    if (existing) {
      // An explicit link not linked yet waits on the second step with the session: its challenge carries it.
      const link = !linked && linkUserId !== null;
      const step = this.secondStep(as, id, args, { issuer, clientId, subject, emailDomain: domain, link });
      if (step) return this.committed(step);
    }
    const done = this.store.tx(() => {
      // An explicit link begun with a recovery code spends it now that the link happens, not at the request;
      // a repeat link of the identity this account has already links nothing, and costs the user no code.
      const recovery = linkUserId && !linked ? args.linkRecoveryHash : null;
      if (recovery && !this.twoFactor.verify(as, id, { recoveryHash: recovery }, "sso_link").ok) return false;
      if (existing) this.store.markEmailVerified(as, id);
      else this.sso.provision(ctx, { id, email, name, roles });
      if (!linked) this.sso.link(issuer, subject, id, ctx.now);
      if (!linked && linkUserId) {
        this.store.emit(as, `user/${id}`, { type: "identity.sso.linked", data: { user_id: id, issuer } });
      }
      // An explicit link starts no session: its user is signed in already, in the app that began it, and
      // its state is bound to no browser, so the callback may be opened in anyone's (a member's link URL
      // sent to a victim would sign the victim's browser into the member's account: login CSRF).
      // (The contract has a sign-in carry its session, and an explicit link none.)
      if (linkUserId || !session) return true;
      this.creds.startFamily(as, id, session.familyId, session.tokenHash);
      this.sessions.describe(session.familyId, as, userAgent);
      this.sso.signedIn(session.familyId, issuer, subject);
      this.store.emit(as, `user/${id}`, {
        type: "identity.sso.login",
        data: { user_id: id, family_id: session.familyId, issuer },
      });
      return true;
    });
    // The recovery code was used since the request (a login, another link): the failure is recorded.
    if (!done) return this.committed(fail("wrong_proof"));
    const principal = this.store.principal(id);
    if (!principal) return fail("not_configured");
    return this.committed(ok({ principal, provisioned, session: linkUserId === null }));
  }

  /**
   * What an existing account still needs before a sign-in through the provider starts a session, as
   * password login asks it (plinth's second factor is the account's, whichever first factor was
   * used): with two-factor on, a challenge for `POST /auth/two-factor`, which remembers the identity;
   * when the tenant requires it of the account and it has not enrolled, a refusal. An explicit link
   * whose request proved a second factor (ssoBegin) is not asked again; one begun while the account
   * had no two-factor, which has turned it on since, is: its challenge carries the link
   * (`identity.link`), which completing it performs (two-factor.ts). Null: none.
   */
  private secondStep(
    as: Origin,
    userId: string,
    args: {
      linkUserId: string | null;
      linkSecondFactor: boolean;
      adminPermissions: string[];
      challengeHash: string;
      challengeExpiresAt: string;
    },
    identity: SsoOrigin,
  ): { ok: false; error: "two_factor_challenge" | "two_factor_required" } | null {
    const proven = args.linkUserId !== null && args.linkSecondFactor;
    if (!proven && this.twoFactor.enabled(userId)) {
      this.twoFactor.issueChallenge(as, userId, args.challengeHash, args.challengeExpiresAt, identity);
      return fail("two_factor_challenge");
    }
    if (!this.twoFactor.mustEnrol(userId, args.adminPermissions)) return null;
    this.store.tx(() =>
      this.store.emit(as, `user/${userId}`, { type: "identity.login.two_factor_refused", data: { user_id: userId } }),
    );
    return fail("two_factor_required");
  }

  /**
   * Why an explicit link (begun by the account's user, signed in) may not go ahead: the identity
   * is linked to another account, or the account to another identity of this provider; or the
   * account is gone or its email is not the one the provider asserts (the user signed in at the
   * provider as someone else, or was made to). An identity linked to this account already signs in.
   */
  private explicitLinkRefusal(
    ctx: Origin,
    a: { issuer: string; email: string; linked: string | null; linkUserId: string },
  ): "identity_conflict" | "link_mismatch" | null {
    if (a.linked === a.linkUserId) return null;
    if (a.linked !== null || this.sso.hasIdentity(a.issuer, a.linkUserId)) {
      this.refuseSignIn(ctx, a.linkUserId, a.issuer, "identity_conflict");
      return "identity_conflict";
    }
    if (this.store.credentials(a.email)?.userId !== a.linkUserId) {
      this.refuseSignIn(ctx, a.linkUserId, a.issuer, "link_mismatch");
      return "link_mismatch";
    }
    return null;
  }

  /** What linking by email depends on: whether the account is an owner's, and whether two-factor protects it or must. */
  private linkFacts(userId: string, adminPermissions: readonly string[]): LinkFacts {
    return {
      owner: this.store.rolesOf(userId).includes(OWNER),
      twoFactor: this.twoFactor.enabled(userId),
      twoFactorRequired: this.twoFactor.required(userId, adminPermissions),
    };
  }

  /** Records a sign-in the provider vouched for but the directory refused, against the account it named. */
  protected refuseSignIn(
    ctx: Origin,
    userId: string,
    issuer: string,
    reason: "identity_conflict" | "link_required" | "link_mismatch" | "suspended",
  ): void {
    this.store.tx(() =>
      this.store.emit(
        ctx,
        `user/${userId}`,
        { type: "identity.sso.refused", data: { user_id: userId, issuer, reason } },
        // The audit entry's detail, so the tenant's administrators see why (the target names the account).
        { reason },
      ),
    );
  }

  /** Housekeeping also forgets spent states that expired. */
  override purgeExpired(input: In<"purgeExpired">): Out<"purgeExpired"> {
    const purged = super.purgeExpired(input);
    this.sso.purge(rpcArgs(DirectoryRpc, "purgeExpired", input).now);
    return purged;
  }
}
