/**
 * The workerd suite's guard against a Durable Object's `ctx.waitUntil` work that rejects.
 * Vitest fails a run on a promise nobody handled, in a test or an object alike, but a promise
 * handed to `waitUntil` is the runtime's to await: when it rejects, workerd prints one
 * `uncaught exception; source = Uncaught (in promise)` line, among the dozens a passing run
 * prints (docs/modules.md, "Lines the runtime suite prints that are not failures"), and the
 * run passes. In production that work's failure is lost the same way. plinth's objects hand
 * `waitUntil` only work meant never to reject (the outbox relay's flush, the inline projection
 * pass, the metrics flush, a bulkhead lease's lapse); this guard holds them to it: it wraps
 * `DurableObjectState.prototype.waitUntil`, records each rejection with where `waitUntil` was
 * called, and test/setup.ts fails the test file that saw one.
 *
 * The tests and the Worker's objects share one isolate, and one prototype serves every
 * object's state, so wrapping it once per isolate sees every object (`isolate: false`: files
 * share it). The work still reaches the runtime as it would have, rejection included.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";

interface Guard {
  /** The rejections seen since the last `take`: reason and where `waitUntil` was called. */
  rejected: string[];
}

const KEY = Symbol.for("plinth.test.wait-until-guard");
type Holder = typeof globalThis & { [KEY]?: Guard };
type WaitUntil = (this: DurableObjectState, promise: Promise<unknown>) => void;

/** The first frame of `stack` outside this file: the caller of `waitUntil`. */
function caller(stack: string | undefined): string {
  const frames = (stack ?? "").split("\n").filter((l) => l.trim().startsWith("at "));
  return (frames.find((f) => !/wait-until-guard\.ts:/.test(f)) ?? "(unknown)").trim();
}

async function install(): Promise<Guard> {
  const holder = globalThis as Holder;
  const existing = holder[KEY];
  if (existing) return existing;
  const guard: Guard = { rejected: [] };
  holder[KEY] = guard;
  // Any object's state has the prototype; this one is asked nothing else.
  await runInDurableObject(env.RATE_LIMITER.getByName("test:wait-until-guard"), (_object, state) => {
    const proto: { waitUntil: WaitUntil } = Object.getPrototypeOf(state);
    const original = proto.waitUntil;
    proto.waitUntil = function (this: DurableObjectState, promise: Promise<unknown>) {
      const site = new Error("waitUntil");
      const watched = Promise.resolve(promise).catch((reason: unknown) => {
        const why = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
        guard.rejected.push(`${why} (waitUntil ${caller(site.stack)})`);
        throw reason;
      });
      original.call(this, watched);
    };
  });
  return guard;
}

/**
 * Starts watching: wraps `waitUntil` once per isolate. What earlier files' objects left is kept,
 * not forgotten: their work may settle while this file runs, and its failure is still one.
 */
export async function watchObjectWaitUntil(): Promise<void> {
  await install();
}

/** The object `waitUntil` work that rejected since the last call, emptied. */
export async function rejectedObjectWaitUntils(): Promise<string[]> {
  const guard = await install();
  return guard.rejected.splice(0, guard.rejected.length);
}
