import { type MailContent, renderMail } from "../../kernel/notify/template";

/** How long a verification token lasts, as the mail says (the route sets the expiry). */
export const VERIFY_TTL_HOURS = 24;
/** How long a reset token lasts, as the mail says. */
export const RESET_TTL_MINUTES = 60;

/**
 * The mail sent on registration: the token that verifies the address.
 *
 * @example
 * const mail = verificationMail({ tenantName: tenant.name, token: "plv_…" });
 */
export function verificationMail(input: { tenantName: string; token: string; link?: string | null }): MailContent {
  return renderMail({
    tenantName: input.tenantName,
    subject: `Verify your email address for ${input.tenantName}`,
    paragraphs: [
      [`Welcome to ${input.tenantName}. Please confirm that this address is yours.`],
      ...(input.link
        ? [[`Confirm it within ${VERIFY_TTL_HOURS} hours by opening this link: `, { link: input.link }]]
        : [
            ["Your verification token: ", { code: input.token }],
            [
              "Confirm your address with ",
              { code: "POST /api/v1/auth/verify-email" },
              ` and this token within ${VERIFY_TTL_HOURS} hours.`,
            ],
          ]),
      ["If you did not create an account, ignore this mail: nothing happens without the token."],
    ],
  });
}

/**
 * The mail sent on a password-reset request for an existing account: the single-use reset token.
 * `byAdmin`: an administrator of the tenant asked it (`POST /users/{id}/password-reset`), the
 * member did not, so "ignore it" would be the wrong advice; `signedOut`: every session ended with it
 * and the old password was voided.
 */
export function passwordResetMail(input: {
  tenantName: string;
  token: string;
  link?: string | null;
  byAdmin?: { signedOut: boolean };
}): MailContent {
  const admin = input.byAdmin;
  return renderMail({
    tenantName: input.tenantName,
    subject: `Reset your password for ${input.tenantName}`,
    paragraphs: [
      admin
        ? [
            `An administrator of ${input.tenantName} asks you to set a new password for your account there.`,
            admin.signedOut ? " Every session of the account was signed out already." : "",
          ]
        : [`Someone asked to reset the password of your account at ${input.tenantName}.`],
      ...(input.link
        ? [
            [`Set a new password within ${RESET_TTL_MINUTES} minutes by opening this link: `, { link: input.link }],
            ["Every session of the account is signed out then."],
          ]
        : [
            ["Your reset token: ", { code: input.token }],
            [
              "Set a new password with ",
              { code: "POST /api/v1/auth/password-reset/confirm" },
              ` and this token within ${RESET_TTL_MINUTES} minutes. Every session of the account is signed out then.`,
            ],
          ]),
      admin
        ? [
            admin.signedOut
              ? "Your old password no longer works: set a new one to sign in again (should this expire first, a reset you ask yourself works too)."
              : "Your password stays as it is until you set a new one.",
            ` If you did not expect this, ask an administrator of ${input.tenantName} why.`,
          ]
        : ["If you did not ask for this, ignore this mail: your password stays as it is."],
    ],
  });
}

/**
 * The notice that an account's password changed, to its address: no token, nothing to click; what to
 * do when it was not its owner (a reset takes back an account whose password someone else set).
 */
export function passwordChangedMail(input: {
  tenantName: string;
  how: "reset" | "change";
  /** The tenant mails reset links into its app (`mail_links.password_reset`): its users reset there. */
  viaApp: boolean;
}): MailContent {
  return renderMail({
    tenantName: input.tenantName,
    subject: `Your password for ${input.tenantName} was changed`,
    paragraphs: [
      [
        `The password of your account at ${input.tenantName} was just changed `,
        input.how === "reset"
          ? "with a reset token mailed to this address. Every session of the account was signed out."
          : "from a signed-in session. Every other session of the account was signed out.",
      ],
      input.viaApp
        ? [
            "If this was not you, ask for a password reset now where you sign in, and tell your administrator. ",
            "If it was you, there is nothing to do.",
          ]
        : [
            "If this was not you, set a new password now with ",
            { code: "POST /api/v1/auth/password-reset" },
            " and tell your administrator. If it was you, there is nothing to do.",
          ],
    ],
  });
}

/** The notice that an account's two-factor sign-in was turned off, to its address: by whom, what to do. */
export function twoFactorOffMail(input: { tenantName: string; by: "user" | "admin" }): MailContent {
  return renderMail({
    tenantName: input.tenantName,
    subject: `Two-factor sign-in was turned off for ${input.tenantName}`,
    paragraphs: [
      [
        `Two-factor sign-in of your account at ${input.tenantName} was just turned off `,
        input.by === "admin"
          ? "by an administrator. Signing in now asks your password only."
          : "from a signed-in session, with a code. Signing in now asks your password only.",
      ],
      [
        "If this was not you or your request, change your password, turn two-factor on again and tell your administrator. ",
        "If it was, turn it on again when you can.",
      ],
    ],
  });
}

/**
 * Sent instead of a reset or verification token when the account is suspended: the token could not
 * work, and the mailbox's holder (the account's) would learn the suspension from the refusal anyway.
 * No token, no reason (the tenant's own note), only whom to ask.
 */
export function accountSuspendedMail(input: {
  tenantName: string;
  asked: "password_reset" | "verification";
}): MailContent {
  return renderMail({
    tenantName: input.tenantName,
    subject: `Your account at ${input.tenantName} is suspended`,
    paragraphs: [
      [
        input.asked === "password_reset"
          ? `Someone asked to reset the password of your account at ${input.tenantName}, `
          : `Someone asked for a new verification mail for your account at ${input.tenantName}, `,
        "but the account is suspended by an administrator of the tenant, so no link was sent.",
      ],
      ["To sign in again, ask an administrator of the tenant to reactivate it. If you did not ask, ignore this mail."],
    ],
  });
}

/** How long an invitation's token works. */
export const INVITATION_TTL_DAYS = 7;

/** The mail inviting someone into a tenant: the single-use invitation token and how to accept it. */
export function invitationMail(input: {
  tenantName: string;
  token: string;
  roles: readonly string[];
  link?: string | null;
  /** When the invitation ends sooner than {@link INVITATION_TTL_DAYS} (its sending key expires first): that time. */
  deadline?: string | null;
}): MailContent {
  // "2026-12-08T14:05:00.000Z" → "2026-12-08 14:05 UTC": the mail names the end, not a lifetime it no longer has.
  const within = input.deadline
    ? `before ${input.deadline.slice(0, 10)} ${input.deadline.slice(11, 16)} UTC`
    : `within ${INVITATION_TTL_DAYS} days`;
  return renderMail({
    tenantName: input.tenantName,
    subject: `You are invited to ${input.tenantName}`,
    paragraphs: [
      [`You have been invited to join ${input.tenantName} as ${input.roles.join(", ")}.`],
      ...(input.link
        ? [
            [`Accept ${within} by opening this link: `, { link: input.link }],
            ["If you already have an account there, give its password: the account gains the roles."],
          ]
        : [
            ["Your invitation token: ", { code: input.token }],
            [
              "Accept with ",
              { code: "POST /api/v1/auth/accept-invitation" },
              ` and this token, a password and your name, ${within}. If you already have an account there, give its password: the account gains the roles.`,
            ],
          ]),
      ["If you did not expect this, ignore this mail: nothing happens without the token."],
    ],
  });
}
