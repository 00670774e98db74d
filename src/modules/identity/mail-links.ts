import { z } from "@hono/zod-openapi";

/** Where a link template puts the mailed token. */
export const TOKEN_PLACEHOLDER = "{token}";

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|[a-z0-9-]+\.localhost|\[::1\])$/;

/** What stands for the token while a template is checked: base64url, as a token is. */
const SAMPLE_TOKEN = "plx_token";

/**
 * Whether `template` is a link a mail may carry: `{token}` exactly once, after the host, and with
 * it filled in an absolute `https` URL without credentials (`http` only to a loopback host, for
 * an app under development). No custom schemes (`myapp://…`): any app on a phone may claim one
 * and receive the token; a mobile app takes the https link as a universal link / app link instead.
 *
 * The template must be written as the URL parser writes it back (lowercase scheme and host,
 * punycode, no default port, no space, tab, CR/LF or backslash). The mail carries the template
 * as sent, not as parsed, so anything the parser rewrites is a link nobody checked: a text
 * mail shows `https://a.example/ http://b.example/{token}` as two links, the second to a host
 * and scheme the check never saw. The token in the host would go to DNS resolvers, lowercased.
 */
export function isLinkTemplate(template: string): boolean {
  if (template.split(TOKEN_PLACEHOLDER).length !== 2) return false;
  const filled = template.replace(TOKEN_PLACEHOLDER, SAMPLE_TOKEN);
  try {
    const url = new URL(filled);
    const loopback = LOOPBACK.test(url.hostname);
    const scheme = url.protocol === "https:" || (url.protocol === "http:" && loopback);
    const afterHost = filled.indexOf(SAMPLE_TOKEN) >= url.origin.length;
    return scheme && url.href === filled && afterHost && url.username === "" && url.password === "";
  } catch {
    return false;
  }
}

/**
 * Whether `template` puts `{token}` in the fragment (after the first `#`, where a URL parser
 * starts it). The browser keeps the fragment to itself: a token in the path or the query
 * string reaches the app's server and its access logs, and, through `Referer` and the page's
 * own scripts, the third parties the page loads (analytics, fonts, a CDN). A single-page app
 * routing on the fragment keeps its route: `https://app.example.com/#/join?token={token}`.
 *
 * @example
 * tokenInFragment("https://app.example.com/verify#token={token}"); // true
 * tokenInFragment("https://app.example.com/verify?token={token}"); // false
 */
export function tokenInFragment(template: string): boolean {
  const hash = template.indexOf("#");
  return hash >= 0 && template.indexOf(TOKEN_PLACEHOLDER) > hash;
}

const NOT_A_LINK =
  "must be an https URL with {token} once after the host, as https://app.example.com/verify#token={token} (http only to a loopback host), written as a URL parser writes it (lowercase host, punycode, no spaces)";
const NOT_IN_FRAGMENT =
  "must put {token} in the fragment, after #, as https://app.example.com/verify#token={token}: in the path or query string the token reaches the app's server logs, and through Referer the third parties its page loads";

// One message a link: the first rule it breaks.
const LinkTemplate = z
  .string()
  .max(2048)
  .superRefine((template, ctx) => {
    if (!isLinkTemplate(template)) ctx.addIssue({ code: "custom", message: NOT_A_LINK });
    else if (!tokenInFragment(template)) ctx.addIssue({ code: "custom", message: NOT_IN_FRAGMENT });
  })
  .nullable();

/**
 * A tenant's links into its own app for the mails plinth sends its users: with one set, the mail
 * says "open this link" (the token filled in) rather than naming the API call, which means
 * nothing to the app's users. Null: the mail names the API call, as for a developer.
 */
export const MailLinksSchema = z.object({
  // As stored: a template saved under an older, looser check must not make every read of the
  // settings fail; linkFor leaves such a template out of the mail instead.
  verify_email: z.string().max(2048).nullable(),
  password_reset: z.string().max(2048).nullable(),
  invitation: z.string().max(2048).nullable(),
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
 * The link a mail carries for `token`, or null without a template or with one the check now
 * refuses (saved before the check was tightened): the mail then names the API call. The token is URL-encoded (it
 * is base64url, so this changes nothing today, but a template's place for it may be a query).
 *
 * @example
 * linkFor("https://app.example.com/verify#token={token}", "plv_abc"); // "https://app.example.com/verify#token=plv_abc"
 */
export function linkFor(template: string | null, token: string): string | null {
  return template === null || !isLinkTemplate(template)
    ? null
    : template.replace(TOKEN_PLACEHOLDER, encodeURIComponent(token));
}

/** Something about the stored settings their owner should change, though they still work (or are left out of use). */
export const SettingsWarningSchema = z
  .object({ field: z.string(), message: z.string() })
  .openapi("SettingsWarning", { example: { field: "mail_links.password_reset", message: "…" } });
export type SettingsWarning = z.infer<typeof SettingsWarningSchema>;

/**
 * What is wrong with stored links that no PATCH accepts today: saved before a check, they are
 * kept (a read of the settings must not fail on them) and either left out of the mail (a link
 * {@link isLinkTemplate} refuses) or still mailed with the token outside the fragment (an app
 * reading it from the query keeps working until it moves): the settings name each, so the
 * owner learns of it.
 */
export function mailLinkWarnings(links: MailLinks): SettingsWarning[] {
  const warnings: SettingsWarning[] = [];
  for (const key of ["verify_email", "password_reset", "invitation"] as const) {
    const link = links[key];
    if (link === null) continue;
    const field = `mail_links.${key}`;
    if (!isLinkTemplate(link)) {
      warnings.push({ field, message: `left out of the mail, which names the API call instead: it ${NOT_A_LINK}` });
    } else if (!tokenInFragment(link)) {
      warnings.push({ field, message: `still mailed, but it ${NOT_IN_FRAGMENT}; set it again with the token there` });
    }
  }
  return warnings;
}

/** The longest string an audit fact holds (AuditFactsSchema, kernel/events/envelope.ts). */
const FACT_LENGTH = 256;

/**
 * The audit facts of a change of the links: each link as set, so an auditor sees where
 * reset and invitation tokens now go (the links are no secret; the tokens are filled in
 * later). A link longer than a fact is cut, ending in "…": its scheme and host come first,
 * so the host receiving the tokens stays on record.
 */
export function mailLinksFacts(links: MailLinks): Record<`mail_links.${keyof MailLinks}`, string | null> {
  const fact = (link: string | null) =>
    link === null || link.length <= FACT_LENGTH ? link : `${link.slice(0, FACT_LENGTH - 1)}…`;
  return {
    "mail_links.verify_email": fact(links.verify_email),
    "mail_links.password_reset": fact(links.password_reset),
    "mail_links.invitation": fact(links.invitation),
  };
}
