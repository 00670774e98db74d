// The task-update throttle of vitest's runner, as installed (scripts/patch-deps.mjs fixes a lost
// wake-up in it): run on a fake clock and timers, a call made in the same millisecond as the last
// send must still be sent, however exactly the trailing timer fires.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXES } from "../../scripts/patch-deps.mjs";

const ROOT = join(import.meta.dirname, "..", "..");
const FIX = FIXES.find((f) => f.file.includes("@vitest/runner"));

/** The runner's `throttle` function, cut from `text`, over a fake clock and fake timers. */
function throttleFrom(text: string) {
  const start = text.indexOf("function throttle(fn, ms) {");
  const end = text.indexOf("\n}\n", start);
  if (start < 0 || end < 0) throw new Error("no throttle function in the runner's chunk");
  let now = 0;
  const timers = new Map<number, { at: number; run: () => void }>();
  let ids = 0;
  const fakeSetTimeout = (run: () => void, ms: number) => {
    timers.set(++ids, { at: now + ms, run });
    return ids;
  };
  const fakeClearTimeout = (id: number | undefined) => {
    if (id !== undefined) timers.delete(id);
  };
  const build = new Function(
    "unixNow",
    "setTimeout",
    "clearTimeout",
    `${text.slice(start, end + 2)}\nreturn throttle;`,
  );
  const throttle = build(() => now, fakeSetTimeout, fakeClearTimeout) as (fn: () => void, ms: number) => () => void;
  /** Moves the clock to `to`, firing each timer due by then at exactly its due time. */
  const advance = (to: number) => {
    for (;;) {
      const due = [...timers.entries()].filter(([, t]) => t.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].run();
    }
    now = to;
  };
  return { throttle, advance, at: (t: number) => (now = t) };
}

/** Sends made by a throttled function called at 1000 ms twice (the second in the same millisecond), then left alone. */
function sendsAfterSameMillisecondCall(text: string): number {
  const { throttle, advance, at } = throttleFrom(text);
  let sent = 0;
  const call = throttle(() => sent++, 100);
  at(1000);
  call(); // sent at once
  call(); // within the throttle: its timer fires at 1100, exactly 100 ms after the last send
  advance(5000);
  return sent;
}

describe("vitest's task-update throttle", () => {
  it("sends a call made in the same millisecond as the last send, once its timer fires (patched as installed)", () => {
    expect(FIX).toBeDefined();
    const installed = readFileSync(join(ROOT, FIX?.file ?? ""), "utf8");
    expect(sendsAfterSameMillisecondCall(installed)).toBe(2);
  });

  it("the text as shipped loses that call: the case the patch exists for", () => {
    const installed = readFileSync(join(ROOT, FIX?.file ?? ""), "utf8");
    const shipped = installed.replace(FIX?.after ?? "", FIX?.before ?? "");
    expect(shipped).not.toBe(installed);
    expect(sendsAfterSameMillisecondCall(shipped)).toBe(1);
  });
});
