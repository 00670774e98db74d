import { z } from "zod";
import type { BackoffPolicy } from "../resilience";
import { tlsOrLoopback, withoutUserInfo } from "./loopback";

const seconds = (least: number, most: number, what: string) =>
  z.coerce
    .number({ message: `must be a whole number of seconds, ${least} to ${most}` })
    .int(`must be a whole number of seconds, ${least} to ${most}`)
    .min(least, `must be a whole number of seconds, ${least} to ${most}`)
    .max(most, `must be a whole number of seconds, ${least} to ${most} (${what})`);

/**
 * The mail variables. The provider is an HTTP email API (docs/notifications.md):
 * MAIL_API_URL, MAIL_API_KEY (a secret) and MAIL_FROM go together. The retry
 * schedule is the consumer's full-jitter backoff between Queues deliveries.
 * Messages name the expectation, never the value.
 */
export const MailEnvSchema = z.object({
  MAIL_API_URL: z
    .url({ protocol: /^https?$/, message: "must be the http(s) URL of the mail provider's send endpoint" })
    .refine(tlsOrLoopback, "must be https (http only to a loopback host): the request carries the API key")
    .refine(withoutUserInfo, "must not carry a user name or password (the key goes in MAIL_API_KEY)")
    .optional(),
  // Secret: sent as `Authorization: Bearer <key>`; visible ASCII only, so it cannot split a header.
  MAIL_API_KEY: z
    .string()
    .regex(/^[\x21-\x7e]{8,4096}$/, "must be 8 to 4096 visible ASCII characters (the provider's API key)")
    .optional(),
  MAIL_FROM: z
    .string()
    .regex(
      /^(?:[^<>\r\n"]{1,100} <[^\s@<>]{1,64}@[^\s@<>]{1,253}>|[^\s@<>]{1,64}@[^\s@<>]{1,253})$/,
      'must be an address, or "Name <address>"',
    )
    .optional(),
  MAIL_RETRY_BASE_S: seconds(0, 3_600, "one hour").default(30),
  MAIL_RETRY_MAX_S: seconds(1, 43_200, "twelve hours").default(3_600),
});

/** Where mail is sent: an HTTP email API. Holds a secret (`key`); never logged. */
export interface MailProvider {
  /** The send endpoint: JSON POST `{ from, to, subject, text, html }`. */
  url: string;
  /** Secret: the bearer key. */
  key: string;
  /** The sender, `address` or `Name <address>`. */
  from: string;
}

/** The mail part of {@link Config}. */
export interface MailConfig {
  /** Undefined when MAIL_API_URL is unset: development and tests use the dev mailbox, elsewhere mail waits. */
  provider: MailProvider | undefined;
  /** The wait between deliveries of a message that failed, drawn with full jitter (whole seconds in Queues). */
  retry: BackoffPolicy;
}

/**
 * The provider's variables missing when some are set: the three go together. Takes the raw
 * values too, so a config whose MAIL_API_URL does not parse still hears that MAIL_API_KEY and
 * MAIL_FROM are missing in the same answer.
 */
export function providerHalfSet(given: Record<"MAIL_API_URL" | "MAIL_API_KEY" | "MAIL_FROM", unknown>) {
  const set = (v: unknown) => v !== undefined && v !== "";
  const any = Object.values(given).some(set);
  return Object.entries(given)
    .filter(([, value]) => any && !set(value))
    .map(([variable]) => ({
      variable,
      message: "must be set with MAIL_API_URL, MAIL_API_KEY and MAIL_FROM (the mail provider)",
    }));
}

/** The mail config from a parsed env, or the variables that are missing beside the ones given. */
export function mailConfig(
  e: z.infer<typeof MailEnvSchema>,
): { ok: true; mail: MailConfig } | { ok: false; issues: { variable: string; message: string }[] } {
  const issues = providerHalfSet({
    MAIL_API_URL: e.MAIL_API_URL,
    MAIL_API_KEY: e.MAIL_API_KEY,
    MAIL_FROM: e.MAIL_FROM,
  });
  if (e.MAIL_RETRY_MAX_S < e.MAIL_RETRY_BASE_S) {
    issues.push({ variable: "MAIL_RETRY_MAX_S", message: "must be at least MAIL_RETRY_BASE_S" });
  }
  if (issues.length > 0) return { ok: false, issues };
  const provider =
    e.MAIL_API_URL && e.MAIL_API_KEY && e.MAIL_FROM
      ? { url: e.MAIL_API_URL, key: e.MAIL_API_KEY, from: e.MAIL_FROM }
      : undefined;
  return {
    ok: true,
    mail: { provider, retry: { baseMs: e.MAIL_RETRY_BASE_S * 1000, maxMs: e.MAIL_RETRY_MAX_S * 1000 } },
  };
}
