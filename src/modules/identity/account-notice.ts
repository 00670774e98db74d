import type { Context } from "hono";
import { tenantOf } from "../../kernel/auth/guards";
import type { AppEnv } from "../../kernel/env";
import { background } from "../../kernel/http/background";
import { notifierOf } from "../../kernel/notify/notifier";
import { directory } from "./directory/contract";
import { isLinkTemplate } from "./mail-links";
import { passwordChangedMail, twoFactorOffMail } from "./mail-templates";

/** A change to how an account signs in that its owner is told of by mail. */
export type AccountChange = "password_reset" | "password_change" | "two_factor_off" | "two_factor_reset";

/**
 * Tells a user's address that how their account signs in changed (a new password, two-factor off):
 * whoever made the change, the owner learns it from their mailbox, not at their next sign-in. After
 * the response and logged if it fails: the change is made either way, and a 500 would say it was not.
 */
export function noticeAccountChange(c: Context<AppEnv>, userId: string, change: AccountChange): void {
  const tenant = tenantOf(c);
  const send = async () => {
    const dir = directory(c.env, tenant.id);
    const user = await dir.getUser(userId);
    // Deleted in between: nobody to tell, and its address is gone.
    if (!user) return;
    // Where the tenant's reset mail sends its users (its app, or the API call), this one points too.
    const link = (await dir.settings()).mail_links.password_reset;
    const viaApp = link !== null && isLinkTemplate(link);
    const content =
      change === "password_reset" || change === "password_change"
        ? passwordChangedMail({
            tenantName: tenant.name,
            how: change === "password_reset" ? "reset" : "change",
            viaApp,
          })
        : twoFactorOffMail({ tenantName: tenant.name, by: change === "two_factor_reset" ? "admin" : "user" });
    await notifierOf(c).send({
      tenantId: tenant.id,
      to: user.email,
      kind: change.startsWith("password") ? "identity.password-changed" : "identity.two-factor-off",
      ...content,
    });
  };
  background(c, send());
}
