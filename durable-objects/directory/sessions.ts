import { rpcArgs } from "../../src/kernel/durable/rpc";
import type { Origin } from "../../src/kernel/events/origin";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import type { SessionRevocation } from "../../src/modules/identity/directory/sessions";
import { denied, fail, ok } from "../../src/modules/identity/directory/types";
import type { In, Out } from "./base";
import { DirectorySso } from "./sso";

/**
 * The directory's sessions (issue 16): a user's refresh-token families,
 * listed and revoked by the user themself or by an administrator. Revoking
 * someone else's sessions asks the authority policy with the directory's
 * current state, in the same call as the write: only an owner signs out an
 * owner, and the caller must hold every permission the user holds.
 */
export class DirectorySessions extends DirectorySso {
  listSessions(input: In<"listSessions">): Out<"listSessions"> {
    const { userId, now, page } = rpcArgs(DirectoryRpc, "listSessions", input);
    if (!this.store.user(userId)) return fail("not_found");
    return ok(this.sessions.list(userId, now, page.limit, page.cursor));
  }

  revokeSession(input: In<"revokeSession">): Out<"revokeSession"> {
    const { ctx, userId, sessionId } = rpcArgs(DirectoryRpc, "revokeSession", input);
    const checked = this.mayRevoke(ctx, userId);
    if (!checked.ok) return checked;
    return this.committed(this.sessions.revoke(ctx, userId, sessionId, checked.value));
  }

  revokeSessions(input: In<"revokeSessions">): Out<"revokeSessions"> {
    const { ctx, userId, keep } = rpcArgs(DirectoryRpc, "revokeSessions", input);
    const checked = this.mayRevoke(ctx, userId);
    if (!checked.ok) return checked;
    return this.committed(ok({ revoked: this.sessions.revokeAll(ctx, userId, keep, checked.value) }));
  }

  /** Whether the call's actor may sign `userId` out, and as whom (the user themself, or an administrator). */
  private mayRevoke(ctx: Origin, userId: string) {
    const user = this.authority.user(userId);
    if (!user) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "user.sessions.revoke", user });
    if (refusal) return denied(refusal);
    const by: SessionRevocation = ctx.actor.kind === "user" && ctx.actor.id === userId ? "self" : "admin";
    return ok(by);
  }
}
