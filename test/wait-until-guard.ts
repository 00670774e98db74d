/**
 * The workerd suite's guard against `waitUntil` work that rejects, a Durable Object's and the
 * Worker's alike. Vitest fails a run on a promise nobody handled, in a test or an object alike,
 * but a promise handed to `waitUntil` is the runtime's to await: when it rejects, workerd prints
 * one `uncaught exception; source = Uncaught (in promise)` line, among the dozens a passing run
 * prints (docs/modules.md, "Lines the runtime suite prints that are not failures"), and the run
 * passes. In production that work's failure is lost the same way. plinth hands `waitUntil` only
 * work meant never to reject (an object's outbox flush, inline projection pass, metrics flush, a
 * bulkhead lease's lapse; the Worker's `background()` and `loggedWaitUntil`, which catch and
 * log); this guard holds it to that: it records each rejection with where `waitUntil` was
 * called, and test/setup.ts fails the test file that saw one. The work still reaches the runtime
 * as it would have, rejection included.
 *
 * Where it watches (the tests and the Worker share one isolate; `isolate: false`: files share it):
 * - `DurableObjectState.prototype.waitUntil`: one prototype serves every object's state.
 * - the pool's `ExecutionContext.prototype.waitUntil`: every `createExecutionContext()` a test
 *   hands a handler (the class is the pool's, not workerd's, and is not a global).
 * - each context the test Worker's fetch, queue and scheduled handlers are handed
 *   (`watchedContext`, test/worker.ts): SELF's requests, queue batches Miniflare delivers.
 *   workerd's own ExecutionContext class is no global either, and the pool copies its
 *   `waitUntil` onto each context before the Worker sees it, so no prototype serves them all.
 */
import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";

interface Guard {
  /** The rejections seen since the last `take`, by whose `waitUntil`: reason and where it was called. */
  object: string[];
  worker: string[];
  /** The guard's own wrappers: a context whose `waitUntil` is one is already watched. */
  wrappers: WeakSet<object>;
  objectsWatched: boolean;
}

const KEY = Symbol.for("plinth.test.wait-until-guard");
type Holder = typeof globalThis & { [KEY]?: Guard };
type WaitUntil = (this: unknown, promise: Promise<unknown>) => void;

/** The first frame of `stack` outside this file: the caller of `waitUntil`. */
function caller(stack: string | undefined): string {
  const frames = (stack ?? "").split("\n").filter((l) => l.trim().startsWith("at "));
  return (frames.find((f) => !/wait-until-guard\.ts:/.test(f)) ?? "(unknown)").trim();
}

/**
 * `original`, handed the same work with its rejection recorded in `rejected` on the way. `kept`:
 * `original` only keeps the promise (the pool's context, for `waitOnExecutionContext`) and
 * nothing handles it before a test awaits that, so the guard's copy is marked handled: else it
 * would be an unhandled rejection even where the test handled its own promise.
 */
function watching(guard: Guard, original: WaitUntil, rejected: string[], kept = false): WaitUntil {
  const wrapper: WaitUntil = function (this: unknown, promise: Promise<unknown>) {
    const site = new Error("waitUntil");
    const watched = Promise.resolve(promise).catch((reason: unknown) => {
      const why = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
      rejected.push(`${why} (waitUntil ${caller(site.stack)})`);
      throw reason;
    });
    if (kept) watched.catch(() => undefined);
    original.call(this, watched);
  };
  guard.wrappers.add(wrapper);
  return wrapper;
}

/** The isolate's guard, made on first use with the pool's ExecutionContext prototype watched. */
function guard(): Guard {
  const holder = globalThis as Holder;
  const existing = holder[KEY];
  if (existing) return existing;
  const made: Guard = { object: [], worker: [], wrappers: new WeakSet(), objectsWatched: false };
  holder[KEY] = made;
  const proto: { waitUntil: WaitUntil } = Object.getPrototypeOf(createExecutionContext());
  proto.waitUntil = watching(made, proto.waitUntil, made.worker, true);
  return made;
}

async function install(): Promise<Guard> {
  const made = guard();
  if (made.objectsWatched) return made;
  made.objectsWatched = true;
  // Any object's state has the prototype; this one is asked nothing else.
  await runInDurableObject(env.RATE_LIMITER.getByName("test:wait-until-guard"), (_object, state) => {
    const proto: { waitUntil: WaitUntil } = Object.getPrototypeOf(state);
    proto.waitUntil = watching(made, proto.waitUntil, made.object);
  });
  return made;
}

/**
 * Starts watching: wraps the prototypes once per isolate. What earlier files' work left is kept,
 * not forgotten: it may settle while this file runs, and its failure is still one.
 */
export async function watchWaitUntil(): Promise<void> {
  await install();
}

/**
 * `ctx`, its `waitUntil` watched from here on (the test Worker's handlers pass theirs through
 * this). A context already watched, as every `createExecutionContext()` is, is left as it is.
 */
export function watchedContext<C extends { waitUntil(promise: Promise<unknown>): void }>(ctx: C): C {
  const made = guard();
  if (!made.wrappers.has(ctx.waitUntil)) ctx.waitUntil = watching(made, ctx.waitUntil, made.worker);
  return ctx;
}

/** The object `waitUntil` work that rejected since the last call, emptied. */
export async function rejectedObjectWaitUntils(): Promise<string[]> {
  const made = await install();
  return made.object.splice(0, made.object.length);
}

/** The Worker `waitUntil` work (a request's, a batch's, a cron's) that rejected since the last call, emptied. */
export function rejectedWorkerWaitUntils(): string[] {
  const made = guard();
  return made.worker.splice(0, made.worker.length);
}
