import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import { AppError } from "../../kernel/errors";
import { wants } from "./domain";
import { TEST_MESSAGE_TYPE } from "./message";

/**
 * Checks an endpoint's filters against the event types this platform publishes (the
 * kernel's and every registered module's): a filter none matches is a 400 naming it, since
 * a typo (`orders.order.payed`) would otherwise be stored and receive nothing, silently.
 * `*` always matches; a prefix (`orders.*`) must match some type. The test message's own
 * type counts: an endpoint may name it (it gets test messages whatever its filters).
 */
export function checkFilters(c: Context<AppEnv>, filters: readonly string[]): void {
  const published = [...c.get("platform").events, TEST_MESSAGE_TYPE];
  const unmatched = filters.flatMap((filter, i) =>
    published.some((type) => wants([filter], type)) ? [] : [{ filter, i }],
  );
  if (unmatched.length === 0) return;
  const say = (filter: string) => `no registered module publishes events matching ${filter}`;
  throw new AppError("validation_failed", {
    detail: say(unmatched.map((u) => u.filter).join(", ")),
    errors: unmatched.map((u) => ({ path: `body.events.${u.i}`, message: say(u.filter) })),
  });
}
