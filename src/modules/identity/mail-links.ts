import { z } from "@hono/zod-openapi";

/** Where a link template puts the mailed token. */
export const TOKEN_PLACEHOLDER = "{token}";

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|[a-z0-9-]+\.localhost|\[::1\])$/;

/**
 * Whether `template` is a link a mail may carry: `{token}` exactly once, and with it filled in an
 * absolute `https` URL without credentials (`http` only to a loopback host, for an app under
 * development). No custom schemes (`myapp://…`): any app on a phone may claim one and receive
 * the token; a mobile app takes the https link as a universal link / app link instead.
 */
export function isLinkTemplate(template: string): boolean {
  if (template.split(TOKEN_PLACEHOLDER).length !== 2) return false;
  try {
    const url = new URL(template.replace(TOKEN_PLACEHOLDER, "plx_token"));
    const loopback = LOOPBACK.test(url.hostname);
    const scheme = url.protocol === "https:" || (url.protocol === "http:" && loopback);
    return scheme && url.username === "" && url.password === "";
  } catch {
    return false;
  }
}

const LinkTemplate = z
  .string()
  .max(2048)
  .refine(
    isLinkTemplate,
    "must be an https URL with {token} once, as https://app.example.com/verify#token={token} (http only to a loopback host)",
  )
  .nullable();

/**
 * A tenant's links into its own app for the mails plinth sends its users: with one set, the mail
 * says "open this link" (the token filled in) rather than naming the API call, which means
 * nothing to the app's users. Null: the mail names the API call, as for a developer.
 */
export const MailLinksSchema = z.object({
  verify_email: LinkTemplate,
  password_reset: LinkTemplate,
  invitation: LinkTemplate,
});
export type MailLinks = z.infer<typeof MailLinksSchema>;

/**
 * A change of the links: it replaces them whole, as a change of the signup policy does, so a
 * link left out is none (the mail names the API call again), never an old one kept unseen.
 */
export const MailLinksChangeSchema = z
  .object({
    verify_email: LinkTemplate.default(null),
    password_reset: LinkTemplate.default(null),
    invitation: LinkTemplate.default(null),
  })
  .strict()
  .openapi("MailLinksChange");

/** No links: every mail names the API call. */
export const NO_MAIL_LINKS: MailLinks = { verify_email: null, password_reset: null, invitation: null };

/**
 * The link a mail carries for `token`, or null without a template. The token is URL-encoded (it
 * is base64url, so this changes nothing today, but a template's place for it may be a query).
 *
 * @example
 * linkFor("https://app.example.com/verify#token={token}", "plv_abc"); // "https://app.example.com/verify#token=plv_abc"
 */
export function linkFor(template: string | null, token: string): string | null {
  return template === null ? null : template.replace(TOKEN_PLACEHOLDER, encodeURIComponent(token));
}
