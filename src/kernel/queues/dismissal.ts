import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import type { LogFields } from "../log";

/** What every kind of dead letter (events', mail's) says of itself once dismissed. */
export interface DismissedLetter {
  id: string;
  message_id: string;
  tenant_id: string | null;
  reason: string;
  replayed_at: string | null;
}

/**
 * The end of a dismissal, whatever the letter held: a letter that was not there is 404
 * (`no such <noun>`); one deleted is logged at info as `<noun> dismissed`, with who did it,
 * since nothing else keeps it and that line is its only record. `fields` adds what the
 * letter held (its event, its mail): only what its kind already logs elsewhere.
 *
 * @example
 * recordDismissal(c, await store.dismiss(id), "mail dead letter", (l) => ({ mail_id: l.mail_id }));
 */
export function recordDismissal<T extends DismissedLetter>(
  c: Context<AppEnv>,
  letter: T | null,
  noun: string,
  fields: (letter: T) => LogFields,
): void {
  if (!letter) throw new AppError("not_found", { detail: `no such ${noun}` });
  const principal = c.get("principal");
  c.get("log").info(`${noun} dismissed`, {
    ...fields(letter),
    dead_letter_id: letter.id,
    message_id: letter.message_id,
    tenant_id: letter.tenant_id,
    reason: letter.reason,
    replayed_at: letter.replayed_at,
    by: principal ? `${principal.kind}:${principal.id}` : undefined,
  });
}
