import type { Context } from "hono";
import { tenantOf } from "../../kernel/auth/guards";
import type { AppEnv } from "../../kernel/env";
import { background } from "../../kernel/http/background";
import { notifierOf } from "../../kernel/notify/notifier";
import { directory } from "./directory/contract";
import { passwordChangedMail } from "./mail-templates";

/**
 * Tells a user's address that their password changed (a reset, or a change from a session): whoever
 * else set it, the owner learns it from their mailbox, not at their next failed login. After the
 * response and logged if it fails: the password is changed either way, and a 500 would say it was not.
 */
export function noticePasswordChanged(c: Context<AppEnv>, userId: string, how: "reset" | "change"): void {
  const tenant = tenantOf(c);
  const send = async () => {
    const user = await directory(c.env, tenant.id).getUser(userId);
    // Deleted in between: nobody to tell, and its address is gone.
    if (!user) return;
    await notifierOf(c).send({
      tenantId: tenant.id,
      to: user.email,
      kind: "identity.password-changed",
      ...passwordChangedMail({ tenantName: tenant.name, how }),
    });
  };
  background(c, send());
}
