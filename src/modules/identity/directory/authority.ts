import type { Actor } from "../../../kernel/events/envelope";
import type { Origin } from "../../../kernel/events/origin";
import { type AuthorityAction, authorize, type Caller, OWNER, type Refusal, type UserFacts } from "../policy";
import type { Credentials } from "./credentials";
import type { Roles } from "./roles";
import type { DirectoryStore } from "./store";

/**
 * The directory's side of the authority policy: the facts it needs, read from
 * the directory's own tables inside the same single-threaded call as the write
 * that follows, so nothing changes between the check and the write.
 */
export class Authority {
  constructor(
    private readonly store: DirectoryStore,
    private readonly creds: Credentials,
    private readonly roles: Roles,
  ) {}

  /**
   * The caller as the directory knows it now: a user's current roles, a key's
   * scopes while it is live, capped by what its creator chain holds now (a key
   * never holds more than the user who created it, or the key that minted it).
   * A principal that no longer exists holds nothing, whatever an isolate's cache
   * still says.
   */
  caller(actor: Actor, now: string): Caller {
    if (actor.kind === "platform") return { kind: "platform" };
    if (actor.id === null) return { kind: "nobody" };
    if (actor.kind === "user") {
      // A suspended user holds nothing, whatever a token minted before the suspension says.
      const user = this.store.suspended(actor.id) ? null : this.user(actor.id);
      return user ? { kind: "user", id: user.id, roles: user.roles, grants: user.grants } : { kind: "nobody" };
    }
    if (actor.kind === "api_key") {
      const key = this.creds.liveKey(actor.id, now);
      if (!key) return { kind: "nobody" };
      const caps = this.creds.capsOf(key.id, now);
      return { kind: "api_key", id: key.id, scopes: key.scopes, caps, expiresAt: key.expires_at };
    }
    return { kind: "nobody" };
  }

  /** A user's roles and what they grant, or null. */
  user(id: string): UserFacts | null {
    if (!this.store.user(id)) return null;
    const roles = this.store.rolesOf(id);
    return { id, roles, grants: this.store.grantsOf(roles) };
  }

  /**
   * The users holding `owner` who are not suspended: the owners who can sign in. The last of them
   * is never removed or suspended, so a tenant is never left with owners locked out only.
   */
  owners(): string[] {
    return this.roles.holders(OWNER).filter((id) => !this.store.suspended(id));
  }

  /** The policy's verdict on `action` by the call's actor, now: null when allowed. */
  check(ctx: Origin, action: AuthorityAction): Refusal | null {
    return authorize(this.caller(ctx.actor, ctx.now), action);
  }
}
