import { type Inline, type MailContent, renderMail } from "../../kernel/notify/template";
import { VERIFY_TTL_HOURS } from "./mail-templates";

/** How long an email change's token lasts, as the mail says: a verification's day. */
export const EMAIL_CHANGE_TTL_HOURS = VERIFY_TTL_HOURS;

/**
 * The mail to the address a user asked to change to: the single-use token that makes the change.
 *
 * @example
 * const mail = emailChangeMail({ tenantName: tenant.name, token: "ple_…", link: null });
 */
export function emailChangeMail(input: { tenantName: string; token: string; link?: string | null }): MailContent {
  return renderMail({
    tenantName: input.tenantName,
    subject: `Confirm your new email address for ${input.tenantName}`,
    paragraphs: [
      [`Someone signed in to an account at ${input.tenantName} asked to use this address for it.`],
      ...(input.link
        ? [[`Confirm it within ${EMAIL_CHANGE_TTL_HOURS} hours by opening this link: `, { link: input.link }]]
        : [
            ["Your confirmation token: ", { code: input.token }],
            [
              "Confirm with ",
              { code: "POST /api/v1/auth/verify-email" },
              ` and this token within ${EMAIL_CHANGE_TTL_HOURS} hours.`,
            ],
          ]),
      [
        "The account's other sessions are signed out then. If you did not ask for this, ignore this mail: nothing changes without the token.",
      ],
    ],
  });
}

/** What to do when a change was not asked by the owner: a reset takes the account back and voids the change's token. */
const ifNotYou = (viaApp: boolean): Inline[] =>
  viaApp
    ? [
        "If this was not you, ask for a password reset now where you sign in (it cancels the change), and tell your administrator.",
      ]
    : [
        "If this was not you, reset your password now with ",
        { code: "POST /api/v1/auth/password-reset" },
        " (it cancels the change) and tell your administrator.",
      ];

/**
 * The notice to an account's current address that its address is being changed, or was: no token,
 * nothing to click, no new address (whoever reads an old mailbox learns nothing of the new one).
 */
export function emailChangeNotice(input: {
  tenantName: string;
  stage: "requested" | "changed";
  /** The tenant mails reset links into its app (`mail_links.password_reset`): its users reset there. */
  viaApp: boolean;
}): MailContent {
  const requested = input.stage === "requested";
  return renderMail({
    tenantName: input.tenantName,
    subject: requested
      ? `A change of your email address for ${input.tenantName} was asked`
      : `Your email address for ${input.tenantName} was changed`,
    paragraphs: [
      requested
        ? [
            `A signed-in session of your account at ${input.tenantName} asked, with your password, to use another address. `,
            "Nothing changes until that address confirms it.",
          ]
        : [
            `Your account at ${input.tenantName} now uses another address, confirmed from its mailbox. `,
            "This address no longer signs in, and the account's other sessions were signed out.",
          ],
      requested
        ? ifNotYou(input.viaApp)
        : ["If this was not you, tell your administrator now: this address no longer resets the password."],
    ],
  });
}
