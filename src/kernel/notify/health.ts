import { loadConfig } from "../config";
import { CheckFailed, type HealthCheck } from "../health/checks";
import type { EnvNeeds } from "../modules/types";
import { mailboxEnabled } from "./mailbox";

/**
 * `/readyz`'s `mail`: the MAIL binding is a queue producer (nothing is sent),
 * and outside development and tests mail can leave and waits sealed: a
 * provider is configured (without one, mail is queued, retried and
 * dead-lettered, never sent) and ENCRYPTION_KEYS is set (without it, queued
 * mail waits with its tokens in the clear). Names variables, never values.
 * Reads the config with the platform's `needs`, as `init` does, so it judges the env as the
 * request it answers was judged.
 */
export const mailCheck = (needs: EnvNeeds): HealthCheck => ({
  name: "mail",
  async run(env) {
    if (typeof env.MAIL?.send !== "function" || typeof env.MAIL.sendBatch !== "function") {
      throw new CheckFailed("the MAIL binding is not a queue producer");
    }
    const result = loadConfig(env, needs);
    // An invalid config is answered before any check runs (config_invalid).
    if (!result.ok || mailboxEnabled(result.config.environment)) return;
    const problems: string[] = [];
    if (!result.config.mail.provider) {
      problems.push("no mail provider (set MAIL_API_URL, MAIL_API_KEY, MAIL_FROM): mail is queued but never sent");
    }
    if (!result.config.encryptionKeys) problems.push("ENCRYPTION_KEYS is unset: queued mail is not sealed");
    if (problems.length > 0) throw new CheckFailed(problems.join("; "));
  },
});
