import { describe, expect, it } from "vitest";
import { lateMailWindowMs, MAIL_DLQ_MAX_RETRIES, MAIL_QUEUE_MAX_RETRIES } from "../../src/kernel/notify/late-mail";

const HOUR = 3_600_000;

describe("how long a deleted recipient's late mail is refused", () => {
  it("covers every retry of both mail queues at its ceiling, twice: about 56 h with the defaults", () => {
    // 30 s, 1, 2, 4, 8, 16, 32 min, then 1 h: 30 retries wait at most 86 610 s, 10 at most 14 610 s.
    expect(lateMailWindowMs({ baseMs: 30_000, maxMs: HOUR })).toBe(2 * (86_610 + 14_610) * 1000);
    expect(MAIL_QUEUE_MAX_RETRIES).toBe(30);
    expect(MAIL_DLQ_MAX_RETRIES).toBe(10);
  });

  it("follows the deployment's schedule: a longer ceiling holds the digest longer", () => {
    const standard = lateMailWindowMs({ baseMs: 30_000, maxMs: HOUR });
    expect(lateMailWindowMs({ baseMs: 30_000, maxMs: 2 * HOUR })).toBeGreaterThan(standard);
    expect(lateMailWindowMs({ baseMs: 1_000, maxMs: 1_000 })).toBe(2 * 40 * 1_000);
  });
});
