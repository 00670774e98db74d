// An actor's outbox relay keeps in memory the safety-net alarm it set (one of the actor's timers),
// so that it reads it once per object lifetime. Actor.vacate deletes that timer with the rest of the
// storage; a relay still remembering it set no safety net for the next events the object recorded
// (a late message reopening it), whose rows then had no alarm coming if the isolate died mid-send.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { until } from "../kernel/outbox-events";
import type { ProbeActor } from "./probe-actor";

describe("an actor reopened after vacate", () => {
  it("sets its outbox relay's safety net again for the events it records", async () => {
    const stub = env.PROBE_ACTOR.getByName(`vacate-relay-${crypto.randomUUID()}`);
    const relayTimers = await runInDurableObject(stub, async (instance: ProbeActor, state) => {
      const count = (sql: string) => state.storage.sql.exec<{ n: number }>(sql).one().n;
      const relayTimer = "select count(*) as n from actor_timers where key = '__outbox_relay'";
      await instance.note({ value: "before" });
      await until("the first event sent, its safety net set", () => count(relayTimer) === 1);
      // The note's follow-up timer, done with: the probe then owes nothing.
      state.storage.sql.exec("delete from actor_timers where key like 'after:%'");
      expect(await instance.vacateNow()).toBe(true);
      expect(count("select count(*) as n from sqlite_master where name = 'actor_timers'")).toBe(0);

      await instance.note({ value: "after" });
      await until("the second event sent", () => count("select count(*) as n from outbox") === 0);
      return count(relayTimer);
    });
    expect(relayTimers).toBe(1);
  });
});
