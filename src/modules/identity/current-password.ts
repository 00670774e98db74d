import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import { originOf } from "../../kernel/events/origin";
import { enforce, refund } from "../../kernel/ratelimit/limiter";
import type { directory } from "./directory/contract";
import { identityError } from "./refusals";
import { hasher } from "./services";

/**
 * Checks a signed-in user's current password before a change only they may make (a new
 * password, deleting their account); throws `403 wrong_password` when it is wrong.
 *
 * The password is a guess like a login's, so it spends the account's `login` budget (keyed by
 * email, before any hashing): a stolen access token buys no more tries than the login form
 * gives. A wrong one is recorded as a login's failure is, so such guesses leave a trace; a
 * right one gives its try back, as at login.
 *
 * Returns the stored hash the password was verified against: the change it guards hands it to
 * the directory, which refuses (`password_changed`) when a reset or another change replaced it
 * while this verified, off the directory's thread.
 *
 * @example
 * const verifiedHash = await confirmCurrentPassword(c, directory(c.env, tenant.id), user.id, current_password);
 */
export async function confirmCurrentPassword(
  c: Context<AppEnv>,
  dir: ReturnType<typeof directory>,
  userId: string,
  presented: string,
): Promise<string> {
  const account = await dir.getUser(userId);
  const guess = await enforce(c, "login", account?.email ?? userId);
  const stored = await dir.passwordHashOf(userId);
  const verdict = stored ? await hasher.verify(stored, presented) : { ok: false };
  if (!stored || !verdict.ok) {
    await dir.loginFailed({ ctx: originOf(c), reason: "bad_password" });
    throw identityError("wrong_password", "the current password is wrong");
  }
  await refund(c, guess);
  return stored;
}
