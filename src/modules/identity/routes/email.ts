import type { Context } from "hono";
import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import { isoIn } from "../../../kernel/clock";
import type { AppEnv } from "../../../kernel/env";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { background } from "../../../kernel/http/background";
import { notifierOf } from "../../../kernel/notify/notifier";
import { jsonBody } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { enforce } from "../../../kernel/ratelimit/limiter";
import { clientIp } from "../../../kernel/ratelimit/middleware";
import { accountProofBody, passwordChanged, proveAccount } from "../account-proof";
import { evictUser } from "../authenticators";
import { directory } from "../directory/contract";
import { EMAIL_CHANGE_TTL_HOURS, emailChangeMail, emailChangeNotice } from "../email-change-mail";
import { isLinkTemplate, linkFor } from "../mail-links";
import { identityError } from "../refusals";
import { EmailSchema } from "../schemas";
import { newSecret } from "../services";

const op = operations(["users"]);

/** The prefix of an email change's token: `POST /auth/verify-email` takes it besides a verification's `plv_`. */
export const EMAIL_CHANGE_TOKEN_PREFIX = "ple";

const TTL_MS = EMAIL_CHANGE_TTL_HOURS * 3600 * 1000;

const ask = op.post("/me/email", {
  operationId: "requestEmailChange",
  summary: "Ask to change your email address (your password, and with two-factor on a code)",
  access: "user",
  request: { body: jsonBody(accountProofBody({ new_email: EmailSchema })) },
  responses: {
    202: {
      description:
        "accepted, whether or not the address is free: a token goes to it if it is, a notice to your current address; nothing changes until the token comes back to POST /api/v1/auth/verify-email",
    },
    403: problem(
      "the password is wrong (wrong_password); two-factor is on and the code is missing, wrong or used (wrong_two_factor_code); or the caller is not a user",
    ),
    429: problem(
      "too many mails to the address or from this client (policies mail, mail_ip), passwords or codes tried",
    ),
  },
});

/** Mails `to` the notice that the account's address is being changed or was, pointing where the tenant's reset mail does. */
async function notice(c: Context<AppEnv>, to: string, stage: "requested" | "changed"): Promise<void> {
  const tenant = tenantOf(c);
  const link = (await directory(c.env, tenant.id).settings()).mail_links.password_reset;
  const viaApp = link !== null && isLinkTemplate(link);
  await notifierOf(c).send({
    tenantId: tenant.id,
    to,
    kind: "identity.email-change-notice",
    ...emailChangeNotice({ tenantName: tenant.name, stage, viaApp }),
  });
}

/**
 * `POST /api/v1/me/email`: a signed-in user asks to use another address. The password is asked
 * again (and a code with two-factor on), as for deleting the account: an access token alone must
 * not move the account's mail, and with it its password resets, to someone else's mailbox. The
 * mail limits of a password reset apply, keyed by the new address.
 */
export const emailRoutes = createRouter().openapi(ask, async (c) => {
  const user = principalOf(c, "user");
  const tenant = tenantOf(c);
  const body = c.req.valid("json");
  await enforce(c, "mail_ip", clientIp(c));
  await enforce(c, "mail", body.new_email);
  const dir = directory(c.env, tenant.id);
  const { proof, verifiedHash } = await proveAccount(c, dir, user.id, body);
  const secret = await newSecret(EMAIL_CHANGE_TOKEN_PREFIX);
  const result = await dir.requestEmailChange({
    ctx: originOf(c),
    userId: user.id,
    newEmail: body.new_email,
    tokenHash: secret.hash,
    expiresAt: isoIn(c.get("clock"), TTL_MS),
    keepFamily: user.sessionId ?? null,
    proof,
    verifiedHash,
  });
  if (!result.ok && result.error === "password_changed") throw passwordChanged();
  if (!result.ok && result.error === "wrong_proof") {
    throw identityError("wrong_two_factor_code", "the code is wrong or was already used");
  }
  if (!result.ok) throw identityError("wrong_password", "the account no longer exists");
  const { previous, mailTo } = result.value;
  // After the response: a taken address (no mail) answers as fast as a free one.
  const send = async () => {
    if (mailTo) {
      const links = (await dir.settings()).mail_links;
      await notifierOf(c).send({
        tenantId: tenant.id,
        to: mailTo,
        kind: "identity.email-change",
        ...emailChangeMail({
          tenantName: tenant.name,
          token: secret.token,
          link: linkFor(links.verify_email, secret.token),
        }),
      });
    }
    await notice(c, previous, "requested");
  };
  background(c, send());
  return c.body(null, 202);
});

/**
 * `POST /api/v1/auth/verify-email` with an email change's token: the change is made, the user's
 * cached principal forgotten (its other sessions end), and the old address told.
 */
export async function confirmEmailChange(c: Context<AppEnv>, tokenHash: string): Promise<void> {
  const tenant = tenantOf(c);
  const result = await directory(c.env, tenant.id).confirmEmailChange({ ctx: originOf(c), tokenHash });
  if (!result.ok && result.error === "email_taken") {
    throw new AppError("conflict", {
      detail: "the address was registered since the change was asked; ask again with another address",
    });
  }
  if (!result.ok) throw new AppError("invalid_token", { detail: "the token is unknown, used or expired" });
  evictUser(tenant.id, result.value.userId);
  background(c, notice(c, result.value.previous, "changed"));
}
