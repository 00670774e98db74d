import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isolateMetrics } from "../../src/kernel/metrics/flush";
import { consume, d1Down, messagesOf, recordingTransport, sampleMail, unreadableRegistry } from "./helpers";

afterEach(() => vi.restoreAllMocks());

/**
 * Runs `fn` and answers how often the isolate's metrics were offered a flush by the consumer run
 * under `own` (its env), and what was counted meanwhile. Only `own`'s offers count: the recorder is
 * the isolate's, and anything else finishing meanwhile (a queue delivery, an object's commit) offers
 * a flush too; counted all, one run in CI saw 2.
 */
async function flushesDuring(own: Env, fn: () => Promise<unknown>) {
  const metrics = isolateMetrics();
  const flushes = vi.spyOn(metrics, "maybeFlush");
  const counted = vi.spyOn(metrics.recorder, "inc");
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(console, "info").mockImplementation(() => {});
  await fn();
  return {
    flushes: flushes.mock.calls.filter(([offered]) => offered === own).length,
    retried: counted.mock.calls.filter(([, labels]) => labels?.[1] === "retried").length,
  };
}

describe("the mail consumer's metrics", () => {
  it("flushes what a sent batch counted", async () => {
    const messages = await messagesOf([sampleMail("counted@example.com")]);
    const { transport } = recordingTransport();
    const own = { ...env };
    const seen = await flushesDuring(own, () => consume(messages, { transport: () => transport, env: own }));
    expect(seen.flushes).toBe(1);
  });

  it("flushes the retries of a batch whose tenant registry is unreadable", async () => {
    const messages = await messagesOf([sampleMail("a@example.com"), sampleMail("b@example.com")]);
    const { calls, transport } = recordingTransport();
    const own = { ...env };
    const seen = await flushesDuring(own, async () => {
      const { result } = await consume(messages, {
        transport: () => transport,
        modules: [unreadableRegistry],
        env: own,
      });
      expect(result.retryMessages).toHaveLength(2);
    });
    expect(calls).toEqual([]);
    expect(seen).toEqual({ flushes: 1, retried: 2 });
  });

  it("flushes the retries of a batch whose deleted recipients cannot be looked up (D1 down)", async () => {
    const messages = await messagesOf([sampleMail("c@example.com"), sampleMail("d@example.com")]);
    const { calls, transport } = recordingTransport();
    const own = d1Down();
    const seen = await flushesDuring(own, async () => {
      const { result } = await consume(messages, { transport: () => transport, env: own });
      expect(result.retryMessages).toHaveLength(2);
    });
    expect(calls).toEqual([]);
    expect(seen).toEqual({ flushes: 1, retried: 2 });
  });

  it("flushes the dead-letter queue's retries when D1 cannot store them", async () => {
    const messages = await messagesOf([sampleMail("e@example.com")]);
    const own = d1Down();
    const seen = await flushesDuring(own, async () => {
      const { result } = await consume(messages, { queue: "plinth-mail-dlq", attempts: 1, env: own });
      expect(result.retryMessages).toHaveLength(1);
    });
    expect(seen).toEqual({ flushes: 1, retried: 1 });
  });
});
