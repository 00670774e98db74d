import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      PLATFORM_ROOT_KEY: string;
      JWT_SIGNING_KEYS: string;
      /** The suite's own rate-limit policies (vitest.config.ts). */
      RATE_LIMITS: string;
      /** The in-process OTLP receiver of vitest.otel.config.ts (test/otel only). */
      OTLP_RECEIVER?: string;
      /** The actor base's test-only probe (test/actors/probe-actor.ts, vitest.config.ts). */
      PROBE_ACTOR: DurableObjectNamespace<import("./actors/probe-actor").ProbeActor>;
      /** An actor with no timers (test/actors/timerless-probe.ts, vitest.config.ts). */
      TIMERLESS_PROBE: DurableObjectNamespace<import("./actors/timerless-probe").TimerlessProbe>;
      HANDLERLESS_PROBE: DurableObjectNamespace<import("./actors/handlerless-probe").HandlerlessProbe>;
      /** A module-style actor on a settable clock (test/actors/clock-probe.ts, test/worker.ts). */
      CLOCK_PROBE: DurableObjectNamespace<
        InstanceType<ReturnType<typeof import("./actors/clock-probe").clockProbeObject>>
      >;
    }
  }
}
