import { settableClock } from "../src/kernel/clock";
import { settableSleeper } from "../src/kernel/resilience";

/**
 * The clocks the test Worker (test/worker.ts) builds the platform's Durable Objects over,
 * one per class: real time until a test sets one, so every other test runs as deployed,
 * while a test of an object's timing sets its clock (in the future, so no alarm fires by
 * itself), moves it, and releases it after (docs/actors.md, "A module's own actor on a
 * clock the test moves").
 */
export const rateLimiterClock = settableClock();
export const idempotencyClock = settableClock();
export const auditLogClock = settableClock();
export const directoryClock = settableClock();
export const metricsClock = settableClock();

/**
 * The sleeper the test Worker builds the IdempotencyStore over: real waits until a test hands
 * it a `manualTime`'s sleeper, so a repeat's wait for its first request ends when the test
 * moves time (test/kernel/idempotency-wait.test.ts).
 */
export const idempotencySleeper = settableSleeper();
