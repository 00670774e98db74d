// Work a request leaves running after its response (`background()`: a token's last use, a
// deny event, a metrics flush) must never hand `waitUntil` a promise that rejects. workerd
// neither fails the request nor reports it to the code: it prints an "uncaught exception"
// line and the failure is lost, and the runtime suite still passes (docs/modules.md,
// "Lines the runtime suite prints that are not failures"). So background() logs it instead.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/kernel/env";
import { background } from "../../src/kernel/http/background";
import type { LogFields, Logger } from "../../src/kernel/log";

/** A logger that keeps its warnings. */
function keptWarnings(): { log: Logger; warnings: { msg: string; fields?: LogFields }[] } {
  const warnings: { msg: string; fields?: LogFields }[] = [];
  const log: Logger = {
    debug: () => {},
    info: () => {},
    warn: (msg, fields) => warnings.push({ msg, fields }),
    error: () => {},
    child: () => log,
  };
  return { log, warnings };
}

/** An app whose one route answers at once and leaves `work` to run in the background. */
function appLeaving(work: () => Promise<unknown>, log: Logger): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", (c) => {
    c.set("log", log);
    background(c, work());
    return c.text("answered");
  });
  return app;
}

describe("background()", () => {
  it("gives waitUntil a promise that settles fine when the work fails, and logs the failure", async () => {
    const { log, warnings } = keptWarnings();
    const ctx = createExecutionContext();
    const res = await appLeaving(() => Promise.reject(new Error("queue unavailable")), log).request("/", {}, {}, ctx);
    expect(await res.text()).toBe("answered");
    // Rejects if any promise handed to ctx.waitUntil rejected.
    await waitOnExecutionContext(ctx);
    expect(warnings).toEqual([
      {
        msg: "background work failed",
        fields: expect.objectContaining({ error_name: "Error", error_message: "queue unavailable" }),
      },
    ]);
  });

  it("lets work that succeeds run to its end inside waitUntil, logging nothing", async () => {
    const { log, warnings } = keptWarnings();
    const ctx = createExecutionContext();
    let done = false;
    const work = async () => {
      await new Promise((r) => setTimeout(r, 20));
      done = true;
    };
    expect(await (await appLeaving(work, log).request("/", {}, {}, ctx)).text()).toBe("answered");
    expect(done).toBe(false);
    await waitOnExecutionContext(ctx);
    expect(done).toBe(true);
    expect(warnings).toEqual([]);
  });

  it("without an execution context (app.request in tests) still runs the work and logs its failure", async () => {
    const { log, warnings } = keptWarnings();
    const app = appLeaving(() => Promise.reject(new Error("no ctx")), log);
    expect(await (await app.request("/")).text()).toBe("answered");
    await new Promise((r) => setTimeout(r, 0));
    expect(warnings.map((w) => w.msg)).toEqual(["background work failed"]);
  });
});
