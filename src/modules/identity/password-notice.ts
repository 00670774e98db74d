import type { Context } from "hono";
import { tenantOf } from "../../kernel/auth/guards";
import type { AppEnv } from "../../kernel/env";
import { background } from "../../kernel/http/background";
import { notifierOf } from "../../kernel/notify/notifier";
import { directory } from "./directory/contract";
import { isLinkTemplate } from "./mail-links";
import { passwordChangedMail } from "./mail-templates";

/**
 * Tells a user's address that their password changed (a reset, or a change from a session): whoever
 * else set it, the owner learns it from their mailbox, not at their next failed login. After the
 * response and logged if it fails: the password is changed either way, and a 500 would say it was not.
 */
export function noticePasswordChanged(c: Context<AppEnv>, userId: string, how: "reset" | "change"): void {
  const tenant = tenantOf(c);
  const send = async () => {
    const dir = directory(c.env, tenant.id);
    const user = await dir.getUser(userId);
    // Deleted in between: nobody to tell, and its address is gone.
    if (!user) return;
    // Where the tenant's reset mail sends its users (its app, or the API call), this one points too.
    const link = (await dir.settings()).mail_links.password_reset;
    const viaApp = link !== null && isLinkTemplate(link);
    await notifierOf(c).send({
      tenantId: tenant.id,
      to: user.email,
      kind: "identity.password-changed",
      ...passwordChangedMail({ tenantName: tenant.name, how, viaApp }),
    });
  };
  background(c, send());
}
