// Every batch the mail consumer settles is counted in plinth_queue_messages_total, and what it
// counted is flushed towards the aggregator however the batch ends: /metrics is served by
// whichever isolate answers, so counts an isolate keeps to itself are invisible there. A D1 or
// registry outage, whose retries are what an operator watches /metrics for, ends the batch early.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isolateMetrics } from "../../src/kernel/metrics/flush";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { tenantLookup } from "../../src/modules/tenants/lookup";
import { consume, messagesOf, recordingTransport, sampleMail } from "./helpers";

afterEach(() => vi.restoreAllMocks());

/** A deployment whose tenant registry does not answer (D1 down under it). */
const unreadableRegistry: ModuleDef = {
  name: "registry",
  version: "1.0.0",
  auth: {
    tenants: {
      ...tenantLookup,
      gone: async () => {
        throw new Error("D1_ERROR: tenants unavailable");
      },
    },
  },
};

/** The test env with a D1 that refuses every statement. */
const d1Down = (): Env => {
  const DB = new Proxy(env.DB, {
    get(target, name) {
      if (name === "prepare" || name === "batch" || name === "exec") {
        return () => {
          throw new Error("D1_ERROR: database unavailable");
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...env, DB };
};

/** Runs `fn` and answers how often the isolate's metrics were offered a flush, and what was counted meanwhile. */
async function flushesDuring(fn: () => Promise<unknown>) {
  const metrics = isolateMetrics();
  const flushes = vi.spyOn(metrics, "maybeFlush");
  const counted = vi.spyOn(metrics.recorder, "inc");
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(console, "info").mockImplementation(() => {});
  await fn();
  return {
    flushes: flushes.mock.calls.length,
    retried: counted.mock.calls.filter(([, labels]) => labels?.[1] === "retried").length,
  };
}

describe("the mail consumer's metrics", () => {
  it("flushes what a sent batch counted", async () => {
    const messages = await messagesOf([sampleMail("counted@example.com")]);
    const { transport } = recordingTransport();
    const seen = await flushesDuring(() => consume(messages, { transport: () => transport }));
    expect(seen.flushes).toBe(1);
  });

  it("flushes the retries of a batch whose tenant registry is unreadable", async () => {
    const messages = await messagesOf([sampleMail("a@example.com"), sampleMail("b@example.com")]);
    const { calls, transport } = recordingTransport();
    const seen = await flushesDuring(async () => {
      const { result } = await consume(messages, { transport: () => transport, modules: [unreadableRegistry] });
      expect(result.retryMessages).toHaveLength(2);
    });
    expect(calls).toEqual([]);
    expect(seen).toEqual({ flushes: 1, retried: 2 });
  });

  it("flushes the retries of a batch whose deleted recipients cannot be looked up (D1 down)", async () => {
    const messages = await messagesOf([sampleMail("c@example.com"), sampleMail("d@example.com")]);
    const { calls, transport } = recordingTransport();
    const seen = await flushesDuring(async () => {
      const { result } = await consume(messages, { transport: () => transport, env: d1Down() });
      expect(result.retryMessages).toHaveLength(2);
    });
    expect(calls).toEqual([]);
    expect(seen).toEqual({ flushes: 1, retried: 2 });
  });

  it("flushes the dead-letter queue's retries when D1 cannot store them", async () => {
    const messages = await messagesOf([sampleMail("e@example.com")]);
    const seen = await flushesDuring(async () => {
      const { result } = await consume(messages, { queue: "plinth-mail-dlq", attempts: 31, env: d1Down() });
      expect(result.retryMessages).toHaveLength(1);
    });
    expect(seen).toEqual({ flushes: 1, retried: 1 });
  });
});
