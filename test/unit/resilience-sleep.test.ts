// Sleepers: the fake time every resilience test runs on, and the real one production waits on.
import { describe, expect, it } from "vitest";
import { manualTime, realSleeper, settableSleeper } from "../../src/kernel/resilience/sleep";

const START = "2026-01-01T00:00:00Z";
const T0 = Date.parse(START);

function track(p: Promise<unknown>) {
  const s = { settled: false, error: undefined as unknown };
  void p.then(
    () => {
      s.settled = true;
    },
    (error: unknown) => {
      s.settled = true;
      s.error = error;
    },
  );
  return s;
}

describe("manualTime", () => {
  it("wakes a sleep only when advance reaches its due time", async () => {
    const time = manualTime(START);
    const nap = track(time.sleeper.sleep(1_000));
    expect(time.pending()).toBe(1);
    await time.advance(999);
    expect(nap.settled).toBe(false);
    await time.advance(1);
    expect(nap).toEqual({ settled: true, error: undefined });
    expect(time.pending()).toBe(0);
    expect(time.clock.now().getTime()).toBe(T0 + 1_000);
  });

  it("wakes due sleeps in due order, equal times in the order they began, with the clock at each due time", async () => {
    const time = manualTime(START);
    const woke: string[] = [];
    const nap = (name: string, ms: number) =>
      time.sleeper.sleep(ms).then(() => woke.push(`${name}@${time.clock.now().getTime() - T0}`));
    const all = Promise.all([nap("c", 300), nap("a", 100), nap("b1", 200), nap("b2", 200), nap("late", 5_000)]);
    await time.advance(1_000);
    expect(woke).toEqual(["a@100", "b1@200", "b2@200", "c@300"]);
    expect(time.clock.now().getTime()).toBe(T0 + 1_000);
    expect(time.pending()).toBe(1);
    await time.advance(4_000);
    await all;
    expect(woke.at(-1)).toBe("late@5000");
  });

  it("wakes, in the same advance, sleeps that woken code begins and that fall due in time", async () => {
    const time = manualTime(START);
    let laps = 0;
    const loop = (async () => {
      for (let i = 0; i < 10; i++) {
        await time.sleeper.sleep(100);
        laps++;
      }
    })();
    await time.advance(999);
    expect(laps).toBe(9);
    await time.advance(1);
    await loop;
    expect(laps).toBe(10);
  });

  it("ends a wait of zero (or less) at once, without advance", async () => {
    const time = manualTime(START);
    await time.sleeper.sleep(0);
    await time.sleeper.sleep(-5);
    expect(time.clock.now().getTime()).toBe(T0);
  });

  it("rejects with the signal's reason on abort and forgets the sleep", async () => {
    const time = manualTime(START);
    const abort = new AbortController();
    const nap = time.sleeper.sleep(1_000, abort.signal);
    const reason = new Error("stop");
    abort.abort(reason);
    await expect(nap).rejects.toBe(reason);
    expect(time.pending()).toBe(0);
    await expect(time.sleeper.sleep(1_000, abort.signal)).rejects.toBe(reason);
    expect(time.pending()).toBe(0);
  });

  it("runs advances called together one after the other", async () => {
    const time = manualTime(START);
    const first = time.advance(100);
    const second = time.advance(100);
    await Promise.all([first, second]);
    expect(time.clock.now().getTime()).toBe(T0 + 200);
    await expect(time.advance(-1)).rejects.toThrow(RangeError);
  });
});

describe("realSleeper", () => {
  it("resolves after a short real wait", async () => {
    await expect(realSleeper.sleep(5)).resolves.toBeUndefined();
  });

  it("rejects a long (or endless) wait with the signal's reason when it aborts", async () => {
    for (const ms of [60_000, Number.POSITIVE_INFINITY, 2 ** 40]) {
      const abort = new AbortController();
      const nap = realSleeper.sleep(ms, abort.signal);
      const quick = realSleeper.sleep(10).then(() => abort.abort("enough"));
      await expect(nap).rejects.toBe("enough");
      await quick;
    }
    await expect(realSleeper.sleep(10, AbortSignal.abort("already"))).rejects.toBe("already");
  });
});

describe("settableSleeper", () => {
  it("waits on its base until a test hands it a sleeper, and on the base again once released", async () => {
    const base = manualTime(START);
    const held = manualTime(START);
    const sleeper = settableSleeper(base.sleeper);
    const before = track(sleeper.sleep(1_000));
    sleeper.use(held.sleeper);
    const during = track(sleeper.sleep(1_000));
    sleeper.release();
    const after = track(sleeper.sleep(1_000));
    expect([base.pending(), held.pending()]).toEqual([2, 1]);

    // Each sleep ends by the time it began on: the one begun while held by the held time alone.
    await held.advance(1_000);
    expect([before.settled, during.settled, after.settled]).toEqual([false, true, false]);
    await base.advance(1_000);
    expect([before.settled, after.settled]).toEqual([true, true]);
  });
});
