import type { Context } from "hono";
import { tenantOf } from "../../../kernel/auth/guards";
import { isoIn } from "../../../kernel/clock";
import type { AppEnv } from "../../../kernel/env";
import { background } from "../../../kernel/http/background";
import { notifierOf } from "../../../kernel/notify/notifier";
import type { MailContent } from "../../../kernel/notify/template";
import { enforce } from "../../../kernel/ratelimit/limiter";
import { clientIp } from "../../../kernel/ratelimit/middleware";
import { directory } from "../directory/contract";
import { linkFor, type MailLinks } from "../mail-links";
import { accountSuspendedMail } from "../mail-templates";
import { newSecret } from "../services";

/**
 * A token mailed on request to an address anyone can type (a new verification mail, a
 * password reset): the mail limits first, then a new secret whose hash `issue` stores when
 * the email has an account that may get one (and answers whom to mail), the mail queued
 * after the response. The answer is 202 either way, and an account does not answer slower.
 */
export async function mailedOnRequest(
  c: Context<AppEnv>,
  email: string,
  token: {
    prefix: string;
    ttlMs: number;
    kind: string;
    /** The tenant's link into its app for this mail, if it set one. */
    link: keyof MailLinks;
    mail: (input: { tenantName: string; token: string; link: string | null }) => MailContent;
    /** What a suspended account asked for: it is mailed {@link accountSuspendedMail}, no token. */
    asked: "password_reset" | "verification";
  },
  issue: (stored: { tokenHash: string; expiresAt: string }) => Promise<{ email: string; suspended: boolean } | null>,
): Promise<Response> {
  const tenant = tenantOf(c);
  await enforce(c, "mail_ip", clientIp(c));
  await enforce(c, "mail", email);
  const secret = await newSecret(token.prefix);
  const found = await issue({ tokenHash: secret.hash, expiresAt: isoIn(c.get("clock"), token.ttlMs) });
  if (found) {
    // The tenant's links are read after the response too, so an account costs no more time than none.
    const send = async () => {
      if (found.suspended) {
        const notice = accountSuspendedMail({ tenantName: tenant.name, asked: token.asked });
        await notifierOf(c).send({
          tenantId: tenant.id,
          to: found.email,
          kind: "identity.account-suspended",
          ...notice,
        });
        return;
      }
      const links = (await directory(c.env, tenant.id).settings()).mail_links;
      const link = linkFor(links[token.link], secret.token);
      await notifierOf(c).send({
        tenantId: tenant.id,
        to: found.email,
        kind: token.kind,
        ...token.mail({ tenantName: tenant.name, token: secret.token, link }),
      });
    };
    background(c, send());
  }
  return c.body(null, 202);
}
