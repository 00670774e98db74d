/**
 * Hono lists `.use()` middleware and `.all()` endpoints alike as method `ALL`, and a middleware
 * given a method (`.get("/*", mw)`, an operation's validators before its handler) as that
 * method's route, so neither the path nor the method tells middleware from an endpoint:
 * `.use("/x", mw)` guards an exact path, `.all("/files/*", h)` answers under a wildcard. The
 * handler does: middleware takes `next` (two parameters), an endpoint answers (one), which is
 * how Hono's own route inspector (`hono/dev`) tells them. A router mounted with `.route()` under
 * one that has its own error handler wraps each handler; the one it wraps is judged.
 */

/** Where Hono keeps the handler a wrapper composed (its `COMPOSED_HANDLER`). */
const COMPOSED = "__COMPOSED_HANDLER";

/** The handler a `.route()` wrapper stands for, or `handler` itself. */
function targetOf(handler: unknown): unknown {
  let target = handler;
  while (typeof target === "function" && COMPOSED in target) target = Reflect.get(target, COMPOSED);
  return target;
}

/** Whether a route Hono lists, of any method, is middleware (passes the request on) rather than an endpoint. */
export function isMiddlewareRoute(route: { method: string; handler: unknown }): boolean {
  const target = targetOf(route.handler);
  return typeof target === "function" && target.length > 1;
}
