import { rpcArgs } from "../../src/kernel/durable/rpc";
import type { Origin } from "../../src/kernel/events/origin";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import type { SsoOrigin } from "../../src/modules/identity/directory/two-factor";
import { denied, fail, ok } from "../../src/modules/identity/directory/types";
import type { In, Out } from "./base";
import { DirectorySessions } from "./sessions";

/**
 * The directory's two-factor authentication (TOTP): enrolment, confirmation,
 * disabling and an admin's reset, and the login's second step. The state
 * change and its events commit in one transaction; a code is checked here
 * only as the time step it matched in the Worker, against the last one
 * accepted, in the same single-threaded call that records it.
 */
export class DirectoryTwoFactor extends DirectorySessions {
  twoFactorStatus(userId: In<"twoFactorStatus">): Out<"twoFactorStatus"> {
    return this.twoFactor.status(rpcArgs(DirectoryRpc, "twoFactorStatus", userId));
  }

  twoFactorBegin(input: In<"twoFactorBegin">): Out<"twoFactorBegin"> {
    const { ctx, userId, sealedSecret } = rpcArgs(DirectoryRpc, "twoFactorBegin", input);
    return this.committed(this.twoFactor.begin(ctx, userId, sealedSecret));
  }

  twoFactorSecret(userId: In<"twoFactorSecret">): Out<"twoFactorSecret"> {
    return this.twoFactor.secret(rpcArgs(DirectoryRpc, "twoFactorSecret", userId));
  }

  twoFactorConfirm(input: In<"twoFactorConfirm">): Out<"twoFactorConfirm"> {
    const { ctx, userId, step, recoveryHashes, verifiedSecret } = rpcArgs(DirectoryRpc, "twoFactorConfirm", input);
    // The code was verified off this thread: an enrolment started meanwhile replaced the secret it
    // proved, and turning that one on would hold a secret no code was shown for.
    if (this.twoFactor.secret(userId)?.sealedSecret !== verifiedSecret) return fail("invalid");
    return this.committed(this.twoFactor.confirm(ctx, userId, step, recoveryHashes));
  }

  /** Turns the caller's two-factor off, given a current code or an unused recovery code. */
  twoFactorDisable(input: In<"twoFactorDisable">): Out<"twoFactorDisable"> {
    const { ctx, userId, proof } = rpcArgs(DirectoryRpc, "twoFactorDisable", input);
    return this.committed(
      this.store.tx(() => {
        const checked = this.twoFactor.verify(ctx, userId, proof, "disable");
        if (checked.ok) this.twoFactor.disable(ctx, userId, "user");
        return checked;
      }),
    );
  }

  /**
   * A user deletes their own account (the Worker checked the password). With two-factor on, a
   * current code or an unused recovery code is needed as well, checked and spent here (the
   * Worker's look at the state may be stale): an access token and a phished password must not
   * erase an account its second factor protects, as they cannot turn that factor off.
   */
  deleteOwnAccount(input: In<"deleteOwnAccount">): Out<"deleteOwnAccount"> {
    const { ctx, userId, proof, recipient, verifiedHash } = rpcArgs(DirectoryRpc, "deleteOwnAccount", input);
    // The password was verified off this thread: a reset or change committed meanwhile (an
    // administrator's reset voids it) must not let its old holder delete the account.
    if (this.store.user(userId) && this.store.passwordHashOf(userId) !== verifiedHash) return fail("password_changed");
    // The policy first: a deletion it refuses (the last owner) must not spend the code sent with
    // it, a recovery code above all (there are few, each used once). Nothing awaits in between.
    // The Worker checked the password and the proof is checked below: the account is proven the caller's.
    const refused = this.deletionRefused(ctx, userId, true);
    if (refused) return refused;
    if (this.twoFactor.enabled(userId)) {
      if (!proof) return fail("wrong_proof");
      const checked = this.committed(this.store.tx(() => this.twoFactor.verify(ctx, userId, proof, "delete_account")));
      if (!checked.ok) return fail("wrong_proof");
    }
    return this.removeUser(ctx, userId, true, recipient ?? null);
  }

  /** An admin's reset of another user's two-factor: the caller must hold the user's permissions; only an owner resets an owner. */
  twoFactorReset(input: In<"twoFactorReset">): Out<"twoFactorReset"> {
    const { ctx, userId } = rpcArgs(DirectoryRpc, "twoFactorReset", input);
    const user = this.authority.user(userId);
    if (!user) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "two_factor.reset", user });
    if (refusal) return denied(refusal);
    if (!this.twoFactor.secret(userId)) return fail("off");
    this.twoFactor.disable(ctx, userId, "admin_reset");
    return this.committed(ok(null));
  }

  loginSecondFactor(input: In<"loginSecondFactor">): Out<"loginSecondFactor"> {
    const { ctx, userId, challengeHash, expiresAt, adminPermissions, rehash, verifiedHash } = rpcArgs(
      DirectoryRpc,
      "loginSecondFactor",
      input,
    );
    // As loginSucceeded: the hash the Worker verified may have been voided or changed meanwhile.
    if (this.store.passwordHashOf(userId) !== verifiedHash) return "password_changed";
    if (this.twoFactor.enabled(userId)) {
      this.store.tx(() => {
        if (rehash) this.store.setPasswordHash(userId, rehash, ctx.now);
        this.twoFactor.issueChallenge(ctx, userId, challengeHash, expiresAt);
      });
      return this.committed("challenge");
    }
    if (this.twoFactor.mustEnrol(userId, adminPermissions)) {
      this.store.tx(() =>
        this.store.emit(ctx, `user/${userId}`, {
          type: "identity.login.two_factor_refused",
          data: { user_id: userId },
        }),
      );
      return this.committed("enrolment_required");
    }
    return "none";
  }

  twoFactorChallenge(input: In<"twoFactorChallenge">): Out<"twoFactorChallenge"> {
    const { challengeHash, now } = rpcArgs(DirectoryRpc, "twoFactorChallenge", input);
    const live = this.twoFactor.challenge(challengeHash, now);
    return live && { userId: live.userId, sealedSecret: live.sealedSecret };
  }

  twoFactorComplete(input: In<"twoFactorComplete">): Out<"twoFactorComplete"> {
    const { ctx, challengeHash, userId, proof, familyId, tokenHash, userAgent } = rpcArgs(
      DirectoryRpc,
      "twoFactorComplete",
      input,
    );
    // Checked again here: the challenge may have been spent since the Worker looked at it.
    const live = this.twoFactor.challenge(challengeHash, ctx.now);
    if (!live || live.userId !== userId) return fail("invalid");
    // Suspended since the password step (or the provider's callback) earned the challenge: told as a
    // login with that password is told, the challenge left unspent.
    if (this.store.suspended(userId)) return fail("suspended");
    const principal = this.store.principal(userId);
    if (!principal) return fail("invalid");
    // A single sign-on's challenge is good only while the provider its ID token was verified against
    // (issuer and client) is the tenant's: replaced or deleted in the challenge's minutes, the old
    // issuer's identity neither signs in nor is linked, as its callback's sealed state no longer opens.
    // Refused before the code is checked, so nothing is spent and the challenge stays, as that state does
    // (the same provider configured again within its minutes accepts both).
    if (live.sso && !this.sso.isCurrent(live.sso.issuer, live.sso.clientId)) return fail("provider_replaced");
    // Nor once the provider's allowed_domains no longer lists the domain of the email it asserted: that
    // narrows who may sign in without replacing the provider, and the callback would now refuse the
    // domain. Before the code is checked too (allowed again within the minutes, it completes). A
    // challenge from before the domain was recorded names none: unknown, as a spent one; sign in again.
    if (live.sso?.emailDomain === null) return fail("invalid");
    if (live.sso && !this.sso.allowsDomain(live.sso.emailDomain)) return fail("domain_not_allowed");
    return this.committed(
      this.store.tx(() => {
        if (!this.twoFactor.verify(ctx, userId, proof, "login").ok) return fail("wrong_proof");
        this.twoFactor.spendChallenge(ctx, challengeHash);
        if (live.sso?.link && this.linkWaiting(ctx, userId, live.sso) === "identity_conflict") {
          return fail("identity_conflict");
        }
        this.creds.startFamily(ctx, userId, familyId, tokenHash);
        this.sessions.describe(familyId, ctx, userAgent);
        if (live.sso) {
          // The second step of a single sign-on: the session is the provider identity's, as one the
          // callback starts at once is (unlinking it ends the session), and recorded as its sign-in.
          const { issuer, subject } = live.sso;
          this.sso.signedIn(familyId, issuer, subject);
          this.store.emit(ctx, `user/${userId}`, {
            type: "identity.sso.login",
            data: { user_id: userId, family_id: familyId, issuer },
          });
        }
        return ok({ ...principal, families: [...principal.families, familyId] });
      }),
    );
  }

  /**
   * Performs the explicit link a challenge carries (its user began it signed in, and has now given the
   * second factor the callback asked): the identity to this account, recorded as `identity.sso.linked`.
   * The callback checked the link; it is checked again for what may have changed in the challenge's
   * minutes: the identity linked to another account, or the account to another identity of the
   * provider, is a conflict (recorded, nothing linked, no session). Linked to this account already:
   * nothing to do. Inside the completion's transaction.
   */
  private linkWaiting(ctx: Origin, userId: string, identity: SsoOrigin): "linked" | "identity_conflict" {
    const { issuer, subject } = identity;
    const linked = this.sso.linkedUser(issuer, subject);
    if (linked === userId) return "linked";
    if (linked !== null || this.sso.hasIdentity(issuer, userId)) {
      this.refuseSignIn(ctx, userId, issuer, "identity_conflict");
      return "identity_conflict";
    }
    this.sso.link(issuer, subject, userId, ctx.now);
    this.store.emit(ctx, `user/${userId}`, { type: "identity.sso.linked", data: { user_id: userId, issuer } });
    return "linked";
  }
}
