import { errorFields, type Logger } from "../log";

/**
 * The `waitUntil` plinth hands a module's code (a queue subscriber's ModuleRuntime, a job's
 * run, a route's work through background()): work that may outlive the invocation, whose
 * failure is logged with the invocation's fields rather than left to the runtime. A rejected
 * promise given to the runtime's own `waitUntil` costs nothing but one workerd line
 * ("Uncaught (in promise)", with no request, batch or job to tell it by), and the failure is
 * otherwise lost. The work still runs to its end within the invocation, as before.
 *
 * @example
 * const runtime = { …, waitUntil: loggedWaitUntil((p) => ctx.waitUntil(p), log) };
 */
export function loggedWaitUntil(
  waitUntil: (promise: Promise<unknown>) => void,
  log: Pick<Logger, "warn">,
): (promise: Promise<unknown>) => void {
  return (work) =>
    waitUntil(Promise.resolve(work).catch((error: unknown) => log.warn("background work failed", errorFields(error))));
}
