import { lapsed } from "../clock/lapsed";
import { loadConfig } from "../config";
import { countingD1 } from "../db/counting";
import { createLogger, errorFields } from "../log";
import type { ModuleRuntime, PlatformParts } from "../modules/types";
import { Pacer } from "../resilience/pace";
import type { Sleeper } from "../resilience/sleep";
import { cataloguing } from "./catalog";
import { applyRoute, consumerStats, Deferred, type Route, routesOf, wants } from "./consume";
import type { Envelope } from "./envelope";

/** Events applied per inline batch; more wait for the next. */
const INLINE_BATCH = 100;

/**
 * A pass that has not moved for this long (ms) is given up: the next push
 * starts a new one. A shared pass runs in the context of the object whose
 * commit started it; if that object is reset mid-pass, its D1 call or pace
 * timer may never settle, and without a bound every later commit of the
 * isolate would join a pass that never ends, leaving the read models to the
 * queue alone. The events the stalled pass held reach the read model through
 * the queue, as any the pass misses do.
 */
export const INLINE_STALL_MS = 5_000;

/**
 * The writer's inline pass: applies a commit's events to the subscriptions
 * that opt in (`inline: true`, version-guarded state projections) right
 * after the commit, so a read model shows a write within milliseconds. The
 * queue stays the guarantee: the pass records what it applied, the queue's
 * delivery then finds it recorded, and whatever the pass could not apply (a
 * failure, a gap it may not fill from inside the writer) the queue applies.
 * Commits that arrive while a pass runs are applied together in the next
 * one, so a busy writer costs D1 a round trip or two per pass, not per
 * command. With `paceMs`, a pass starts no sooner than that after the one
 * before it started: a lone commit is still applied at once, and a busy
 * writer makes at most one pass per `paceMs`, with every commit since the
 * last. Passes run one at a time, in commit order. A writer class may keep
 * one per object or share one among its objects in an isolate (the Aggregate
 * does: a pass carries several aggregates' commits).
 */
export class InlineProjector {
  private readonly routes: Route[];
  private readonly pending: Envelope[] = [];
  /** The writer's state of each stream after its latest pushed commit. */
  private states = new Map<string, { version: number; state: unknown }>();
  private running: Promise<void> | null = null;
  /** The writer whose commit started the pass under way: the only one it is handed to. */
  private runningFor: string | undefined;
  /** Which pass is the current one; a pass given up for stalling stops touching shared state. */
  private generation = 0;
  /** When the current pass last moved (ms on the platform's clock). */
  private movedAt = 0;
  private runtime: ModuleRuntime | null | undefined;
  private readonly pacer: Pacer;

  constructor(
    private readonly platform: Pick<PlatformParts, "modules" | "needs" | "clock">,
    private readonly env: Env,
    options: { paceMs?: number; sleeper?: Sleeper } = {},
  ) {
    this.pacer = new Pacer(options.paceMs ?? 0, platform.clock, options.sleeper);
    // Each records its events' streams in the catalog too, so that a replay can find them
    // even if the queue loses its delivery (catalog.ts, `cataloguing`).
    this.routes = routesOf(platform.modules)
      .filter((r) => r.subscription.inline === true)
      .map((r) => ({ ...r, subscription: cataloguing(r.subscription) }));
  }

  /**
   * Queues a commit's events, with the writer's state of its stream after
   * them (a state projection of that aggregate stores it as it is); returns
   * the pass that applies them, for the object's `waitUntil`. Never rejects.
   *
   * `writer` names the object pushing, when several share the projector: a pass runs in the
   * context of the object whose commit started it, so it is handed to that writer only. Another
   * writer's events ride it, and that writer gets a settled promise: a promise of another
   * object's context, awaited, fails where the awaiting object's own I/O is foreign, or waits for
   * ever once that object is reset mid-pass (the queue applies what a pass misses either way).
   */
  push(
    events: readonly Envelope[],
    after?: { stream: string; version: number; state: unknown },
    writer?: string,
  ): Promise<void> {
    const wanted = events.filter((e) => this.routes.some((r) => wants(r, e.type)));
    if (wanted.length === 0) return this.passOf(writer);
    this.pending.push(...wanted);
    if (after && (this.states.get(after.stream)?.version ?? 0) < after.version) {
      this.states.set(after.stream, { version: after.version, state: after.state });
    }
    if (this.running && lapsed(this.movedAt, this.now(), INLINE_STALL_MS)) this.giveUp();
    if (!this.running) {
      this.runningFor = writer;
      this.running = this.run(++this.generation);
    }
    return this.passOf(writer);
  }

  /** The pass under way when `writer` started it; a settled promise otherwise. */
  private passOf(writer: string | undefined): Promise<void> {
    return this.running && this.runningFor === writer ? this.running : Promise.resolve();
  }

  private now(): number {
    return this.platform.clock.now().getTime();
  }

  private giveUp(): void {
    consumerStats.inline.stalled++;
    this.runtime?.log.warn("inline pass stalled; a new one starts and the queue applies what it held", {
      stalled_ms: this.now() - this.movedAt,
    });
    this.running = null;
  }

  private async run(generation: number): Promise<void> {
    const current = () => generation === this.generation;
    this.movedAt = this.now();
    try {
      const runtime = this.runtimeOf();
      while (runtime && current() && this.pending.length > 0) {
        // Commits pushed while it waits join this pass (`running` is set).
        await this.pacer.turn();
        if (!current()) return;
        this.movedAt = this.now();
        const batch = this.pending.splice(0, INLINE_BATCH);
        const writerStates = this.states;
        this.states = new Map();
        consumerStats.inline.passes++;
        consumerStats.inline.events += batch.length;
        for (const route of this.routes) {
          const mine = batch.filter((e) => wants(route, e.type));
          if (mine.length === 0) continue;
          const failures = await applyRoute(route, mine, runtime, { fillGaps: false, writerStates }, "inline");
          this.movedAt = this.now();
          consumerStats.inline.applied += mine.length - failures.size;
          for (const [id, why] of failures) {
            if (why instanceof Deferred) consumerStats.inline.deferred++;
            else {
              consumerStats.inline.failed++;
              runtime.log.warn("inline projection failed; the queue will apply it", {
                subscriber: route.consumer,
                event_id: id,
                // Through errorFields: a failed query's message would carry every value bound to it.
                error_message: errorFields(why).error_message,
              });
            }
          }
        }
      }
    } catch (error) {
      // Anything outside a subscriber's own failures (its runtime, the pacer's wait): the pass ends,
      // the queue applies what it held, and the writer's waitUntil is not handed a rejection that
      // only the runtime would have printed.
      // A pass given up before it failed holds nothing: what waits belongs to its replacement.
      const held = current() ? this.pending.length : 0;
      consumerStats.inline.failed += held;
      this.runtime?.log.error("inline pass failed; the queue applies what it held", {
        events: held,
        ...errorFields(error),
      });
    } finally {
      // In the same step as the loop's last check: a later push starts a new pass. A pass given up
      // leaves alone what belongs to the one that replaced it.
      if (current()) {
        this.pending.length = 0;
        this.states.clear();
        this.running = null;
      }
    }
  }

  /** The runtime subscribers get, built once; null (no inline pass) when the config is invalid. */
  private runtimeOf(): ModuleRuntime | null {
    if (this.runtime !== undefined) return this.runtime;
    const result = loadConfig(this.env, this.platform.needs);
    this.runtime = result.ok
      ? {
          env: { ...this.env, DB: countingD1(this.env.DB, () => consumerStats.inline.d1_round_trips++) },
          config: result.config,
          log: createLogger(result.config.logLevel, { component: "inline" }),
          clock: this.platform.clock,
          modules: this.platform.modules,
          waitUntil: () => {},
        }
      : null;
    return this.runtime;
  }
}
