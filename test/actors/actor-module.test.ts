import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Actor } from "../../src/kernel/actors";
import { manualClock } from "../../src/kernel/clock";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import type { ProbeActor } from "./probe-actor";

let n = 0;

/** A module of the probe's own beside the platform's, declaring one event. */
const gadgets: ModuleDef = {
  name: "gadgets",
  version: "1.0.0",
  events: {
    publishes: z.discriminatedUnion("type", [z.object({ type: z.literal("gadgets.gadget.made"), data: z.object({}) })]),
  },
};
const platformModules = [...modules, gadgets];

/** An actor of module `module` over `over`, built on a probe's storage, emitting `type` in one message. */
function actorOf(module: string | undefined, over: readonly ModuleDef[] = platformModules) {
  return class ModuleProbe extends Actor {
    constructor(ctx: DurableObjectState, workerEnv: Env) {
      super(ctx, workerEnv, { name: "ModuleProbe", module, modules: over, clock: manualClock("2030-01-01T00:00:00Z") });
    }

    emitOne(type: string): Promise<unknown> {
      return this.receive("emitOne", () =>
        this.emit({ tenantId: "t_mod", stream: "t_mod/module_probe/1" }, { type, data: {} }),
      );
    }
  };
}

/** Builds `Class` on a fresh probe object's storage: what a constructor throws, or the instance. */
const build = (Class: ReturnType<typeof actorOf>) =>
  runInDurableObject(env.PROBE_ACTOR.getByName(`actor-module-${++n}`), (_: ProbeActor, state) => {
    try {
      return { actor: new Class(state, env), error: null };
    } catch (error) {
      return { actor: null, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
  });

// An actor was given its module's union as `publishes` beside the platform's modules, which hold that
// union too: nothing tied the two, so an actor could pass another module's union and emit its types.
describe("an actor's module", () => {
  it("is refused at construction when no registered module has its name, naming the registered ones", async () => {
    const { error } = await build(actorOf("fils"));
    expect(error).toBe(
      `UnknownActorModule: ModuleProbe names module "fils", which is no registered module ` +
        `(${platformModules.map((m) => m.name).join(", ")}): give its options the name in its module's manifest`,
    );
  });

  it("gives what the actor may emit: its module's declared events, and no other module's", async () => {
    const { actor, error } = await build(actorOf("gadgets"));
    expect(error).toBeNull();
    await runInDurableObject(env.PROBE_ACTOR.getByName(`actor-module-${n}`), async () => {
      expect(await actor?.emitOne("gadgets.gadget.made")).toMatchObject({ type: "gadgets.gadget.made" });
      await expect(actor?.emitOne("files.file.uploaded")).rejects.toThrow(
        'ModuleProbe emitted event type "files.file.uploaded", which module gadgets does not declare',
      );
    });
  });

  it("emits none but actor.escalated for a module that declares no events, or for none named", async () => {
    const quiet: ModuleDef = { name: "quiet", version: "1.0.0" };
    for (const Class of [actorOf("quiet", [...platformModules, quiet]), actorOf(undefined)]) {
      const { actor } = await build(Class);
      await runInDurableObject(env.PROBE_ACTOR.getByName(`actor-module-${n}`), async () => {
        await expect(actor?.emitOne("gadgets.gadget.made")).rejects.toThrow(/it declares none/);
        expect(await actor?.emitOne("actor.escalated")).toMatchObject({ type: "actor.escalated" });
      });
    }
  });
});
