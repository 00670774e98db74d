import { Cron } from "croner";

/**
 * A job's cron expression, compiled once: standard five fields (minute hour
 * day-of-month month day-of-week, names and `@hourly`-style nicknames
 * allowed), evaluated in UTC by croner. Day-of-month and day-of-week combine
 * with OR, as in Vixie cron and Cloudflare's triggers.
 */
export interface CronSchedule {
  expression: string;
  /** The first fire time strictly after `after` (epoch ms), or null when there is none. */
  nextAfter(after: number): number | null;
  /** The fire time inside `(from, to]` (epoch ms), the latest if several, or null. */
  firedIn(from: number, to: number): number | null;
}

/** The trigger wrangler.toml carries: the kernel looks for due jobs once a minute. */
export const TICK_CRON = "* * * * *";
/** The time between two ticks, ms: a tick at T runs the jobs whose cron fired in (T − TICK_MS, T]. */
export const TICK_MS = 60_000;

/**
 * Compiles `expression`; throws an Error saying what is wrong with it.
 *
 * @example
 * const hourly = cronSchedule("0 * * * *");
 * hourly.firedIn(Date.parse("2026-01-01T00:59:00Z"), Date.parse("2026-01-01T01:00:00Z")); // 01:00 in ms
 */
export function cronSchedule(expression: string): CronSchedule {
  // No callback: croner only evaluates the pattern, it starts no timer.
  const cron = new Cron(expression, { mode: "5-part", utcOffset: 0 });
  const nextAfter = (after: number): number | null => cron.nextRun(new Date(after))?.getTime() ?? null;
  return {
    expression,
    nextAfter,
    firedIn(from, to) {
      let found: number | null = null;
      for (let at = nextAfter(from); at !== null && at <= to; at = nextAfter(at)) found = at;
      return found;
    },
  };
}

/** Why `expression` is not a cron expression plinth runs, or null when it is. */
export function cronProblem(expression: string): string | null {
  try {
    cronSchedule(expression);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
