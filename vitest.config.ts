import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import {
  NEEDS_EVICTION,
  OWN_WORKERD,
  pinnedDurableObjects,
  testBindings,
  testWranglerConfig,
  useTestWorkerdAutogates,
} from "./vitest.bindings";
import { ignoreLostConsoleLine } from "./vitest.unhandled";

// The actor base's probe (test/actors/probe-actor.ts): no wrangler.toml entry, never deployed.
const PROBE_ACTOR = { className: "ProbeActor", useSQLite: true };
// An object without `ping` (test/kernel/no-ping-object.ts), for /readyz's derived checks.
const NO_PING = { className: "NoPingObject", useSQLite: true };
// A module's actor on a settable clock (test/actors/clock-probe.ts): the same, test-only.
const CLOCK_PROBE = { className: "ClockProbe", useSQLite: true };
// An actor with no timers (test/actors/timerless-probe.ts): the same, test-only.
const TIMERLESS_PROBE = { className: "TimerlessProbe", useSQLite: true };
// An actor with a timerMessage and no onTimer (test/actors/handlerless-probe.ts): the same, test-only.
const HANDLERLESS_PROBE = { className: "HandlerlessProbe", useSQLite: true };

// Runtime tests run inside workerd with the bindings of wrangler.toml, plus testBindings().
// The entry is the deployed Worker plus test-only Durable Objects (test/worker.ts).
export default defineConfig(async () => {
  useTestWorkerdAutogates();
  const bindings = await testBindings();
  const workerd = (durableObjects: Record<string, { className: string }>) =>
    cloudflareTest({
      main: "./test/worker.ts",
      wrangler: { configPath: testWranglerConfig() },
      miniflare: { bindings, durableObjects },
    });
  return {
    test: {
      setupFiles: ["./test/setup.ts"],
      // A console line of background work lost at a file's end is no test's failure (vitest.unhandled.ts).
      onUnhandledError: ignoreLostConsoleLine,
      maxWorkers: 2,
      // Two cores shared by two test workers and workerd: HTTP flows that take 3 s alone
      // can take well over vitest's default 5 s when the machine is busy.
      testTimeout: 30_000,
      projects: [
        {
          extends: true as const,
          // Every object pinned in memory: workerd 2026-04-26 can crash evicting an idle
          // object while an alarm's request to it starts (vitest.bindings.ts says how).
          plugins: [
            workerd(
              await pinnedDurableObjects("./wrangler.toml", {
                PROBE_ACTOR,
                NO_PING,
                CLOCK_PROBE,
                TIMERLESS_PROBE,
                HANDLERLESS_PROBE,
              }),
            ),
          ],
          test: {
            name: "workerd",
            include: ["test/**/*.test.ts"],
            // test/otel runs with tracing on (vitest.otel.config.ts): tracing is decided once per isolate.
            exclude: ["test/node/**", "test/otel/**", ...NEEDS_EVICTION, ...OWN_WORKERD],
            // One workerd per test worker, not per file: starting workerd and importing the
            // Worker for each of ~95 files was two thirds of the suite's time. Files share
            // storage and module state, so tests do not assume an empty database
            // (docs/modules.md, "Tests").
            isolate: false,
          },
        },
        {
          extends: true as const,
          plugins: [workerd({ PROBE_ACTOR, NO_PING, CLOCK_PROBE, TIMERLESS_PROBE, HANDLERLESS_PROBE })],
          test: { name: "workerd-isolated", include: [...NEEDS_EVICTION, ...OWN_WORKERD] },
        },
      ],
    },
  };
});
