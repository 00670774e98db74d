// With tracing on, the library hands every invocation a new Proxy of env: the config is still parsed
// once per isolate, from the env behind it, not once per request through it.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type ConfigResult, KERNEL_NEEDS, loadConfig } from "../../src/kernel/config";
import { tracingFor } from "../../src/kernel/telemetry/instrument";

describe("the config cache under tracing", () => {
  it("serves every traced invocation the config parsed once from the runtime's env", async () => {
    const seen: { env: Env; config: ConfigResult }[] = [];
    const traced = tracingFor(env).handler<ExportedHandler<Env>>({
      async fetch(_request, wrapped) {
        seen.push({ env: wrapped, config: loadConfig(wrapped, KERNEL_NEEDS) });
        return new Response("ok");
      },
    });
    const fetch = traced.fetch;
    if (!fetch) throw new Error("the traced handler has no fetch");
    // A fresh env object, as an isolate's runtime would hand it: no cache entry of its own yet.
    const runtimeEnv = { ...env };
    for (let i = 0; i < 3; i++) {
      const ctx = createExecutionContext();
      const res = await fetch(new Request(`http://plinth.test/cache/${i}`), runtimeEnv, ctx);
      expect(await res.text()).toBe("ok");
      await waitOnExecutionContext(ctx);
    }
    expect(seen).toHaveLength(3);
    // The library did wrap env anew for each call ... (compared by identity only: vitest's
    // `not.toBe` would walk the bindings, and an RPC stub answers every property it is asked for)
    expect(seen[0]?.env === runtimeEnv).toBe(false);
    expect(seen[1]?.env === seen[0]?.env).toBe(false);
    // ... and each got the one config of the env behind its wrapper.
    const config = loadConfig(runtimeEnv, KERNEL_NEEDS);
    expect(config.ok).toBe(true);
    for (const s of seen) expect(s.config).toBe(config);
  });
});
