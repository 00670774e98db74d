import { afterEach, describe, expect, it, vi } from "vitest";
import { isolateMetrics } from "../../src/kernel/metrics/flush";
import { consume, d1Down, messagesOf, recordingTransport, sampleMail, unreadableRegistry } from "./helpers";

afterEach(() => vi.restoreAllMocks());

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
      const { result } = await consume(messages, { queue: "plinth-mail-dlq", attempts: 1, env: d1Down() });
      expect(result.retryMessages).toHaveLength(1);
    });
    expect(seen).toEqual({ flushes: 1, retried: 1 });
  });
});
