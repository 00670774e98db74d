import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createPlatform } from "../../src/app";
import { MIGRATION_TABLES, MIGRATIONS } from "../../src/generated/migrations";
import { OBJECT_CLASSES } from "../../src/generated/objects";
import { objectCheck } from "../../src/kernel/health/checks";
import { PONG } from "../../src/kernel/health/contract";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { system } from "../../src/modules/system";
import { testApp } from "../helpers";

interface Ready {
  status: string;
  checks: Record<string, { ok: boolean; error?: string }>;
}

/** A product team's module that wires its own object and declares no readiness check for it. */
const reminders = (binding: string) =>
  ({
    name: "reminders",
    version: "1.0.0",
    bindings: { [binding]: "durable_object" },
    // Its objects are per tenant: the registry wants them emptied when a tenant is erased.
    erasure: { erase: async () => {} },
  }) satisfies ModuleDef;

async function readyz(modules: ModuleDef[], overrides: Record<string, unknown> = {}) {
  const { app } = createPlatform({
    modules,
    migrations: MIGRATIONS,
    migration_tables: MIGRATION_TABLES,
    object_classes: { ...OBJECT_CLASSES, NO_PING: "NoPingObject" },
  });
  const res = await app.request("/readyz", {}, { ...env, ...overrides });
  return { status: res.status, body: (await res.json()) as Ready };
}

describe("/readyz and the Durable Objects modules declare", () => {
  it("pings an object a module binds though the module declares no check, under its class's name", async () => {
    const { status, body } = await readyz([system(), reminders("FILE_STORE")]);
    expect(status).toBe(200);
    expect(body.checks["do:FileStore"]).toMatchObject({ ok: true });
    // A binding the generated map does not know yet (wrangler.toml edited, `npm run generate` not run) is named as bound.
    const probe = await readyz([system(), reminders("PROBE_ACTOR")]);
    expect(probe.body.checks["do:PROBE_ACTOR"]).toMatchObject({ ok: true });
  });

  it("is 503 naming the module's object when it does not answer", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = {
      getByName: () => ({
        ping: async () => {
          throw new Error("Durable Object reset because its code was updated");
        },
      }),
    };
    const { status, body } = await readyz([system(), reminders("FILE_STORE")], { FILE_STORE: broken });
    expect(status).toBe(503);
    expect(body.checks["do:FileStore"]).toMatchObject({ ok: false, error: "check failed (see logs)" });
    // Bound, but to something else (an R2 bucket under the object's name): said, not a TypeError.
    const bucket = await readyz([system(), reminders("FILE_STORE")], { FILE_STORE: env.FILES });
    expect(bucket.body.checks["do:FileStore"]).toMatchObject({
      ok: false,
      error: "the FILE_STORE binding the reminders module declares is not a Durable Object namespace",
    });
    vi.restoreAllMocks();
  });

  it("says how to fix an object whose class does not answer ping", async () => {
    // The run prints `uncaught exception; … The RPC receiver does not implement "ping".` here:
    // workerd's line for the object's rejected reply, written though module-objects.ts awaits
    // the call in a try and turns it into the fix below. A rejection nobody handled would
    // fail the run as Vitest's "Unhandled Rejection" (docs/modules.md, "Lines the runtime
    // suite prints that are not failures").
    const { status, body } = await readyz([system(), reminders("NO_PING")]);
    expect(status).toBe(503);
    expect(body.checks["do:NoPingObject"]).toMatchObject({
      ok: false,
      error:
        "NoPingObject (NO_PING, declared by the reminders module) does not answer ping: add PingRpc to its contract in src/index.ts (traced.object(…, PingRpc)) and implement ping (an actor does)",
    });
    // A stand-in namespace whose stubs lack the method outright is told the same.
    const standIn = await readyz([system(), reminders("NO_PING")], { NO_PING: { getByName: () => ({}) } });
    expect(standIn.body.checks["do:NoPingObject"]?.error).toContain("does not answer ping: add PingRpc");
  });

  it("pings a binding two modules declare once, and one the kernel pings only as the kernel does", async () => {
    const pinged: string[] = [];
    /** A namespace whose readyz object answers and counts the pings it gets. */
    const counted = (binding: string) => ({
      getByName: () => ({
        ping: async () => {
          pinged.push(binding);
          return PONG;
        },
      }),
    });
    const billing = (binding: string) =>
      ({ name: "billing", version: "1.0.0", bindings: { [binding]: "durable_object" } }) satisfies ModuleDef;

    const shared = await readyz([system(), reminders("FILE_STORE"), billing("FILE_STORE")], {
      FILE_STORE: counted("FILE_STORE"),
    });
    expect(shared.body.checks["do:FileStore"]).toMatchObject({ ok: true });
    // A module binding the kernel's own object: the kernel's check is the one that stays.
    const kernels = await readyz([system(), reminders("RATE_LIMITER")], { RATE_LIMITER: counted("RATE_LIMITER") });
    expect(kernels.body.checks["do:RateLimiter"]).toMatchObject({ ok: true });
    expect(pinged).toEqual(["FILE_STORE", "RATE_LIMITER"]);
  });

  it("refuses a module check that repeats the one derived from its binding", () => {
    const twice = { ...reminders("FILE_STORE"), health: [objectCheck("FileStore", async () => ({ ok: true }))] };
    expect(() => testApp([system(), twice])).toThrow(/do:FileStore.*reminders|reminders.*do:FileStore/);
  });
});
