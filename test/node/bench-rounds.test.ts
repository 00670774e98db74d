// The bench's retry of a round that lost connections (bench/lib/rounds.mjs): a stall of the
// machine is measured again and said in the report; plinth's own refusals never are.
import { describe, expect, it } from "vitest";
import { againOnConnectionErrors } from "../../bench/lib/rounds.mjs";

/** A measurement function that returns the given results in turn and counts its calls. */
function runs(...results: { errors: number; non2xx: number; rps: number }[]) {
  let calls = 0;
  const run = async () => {
    const r = results[calls];
    calls++;
    if (!r) throw new Error("measured more often than expected");
    return r;
  };
  return { run, calls: () => calls };
}

describe("againOnConnectionErrors", () => {
  it("keeps a clean round and measures it once", async () => {
    const m = runs({ errors: 0, non2xx: 0, rps: 900 });
    const said: number[] = [];
    expect(await againOnConnectionErrors(m.run, (e) => said.push(e))).toEqual({ errors: 0, non2xx: 0, rps: 900 });
    expect(m.calls()).toBe(1);
    expect(said).toEqual([]);
  });

  it("measures a round with connection errors once more, keeps the second and says how many the first had", async () => {
    const m = runs({ errors: 34, non2xx: 0, rps: 300 }, { errors: 0, non2xx: 0, rps: 880 });
    const said: number[] = [];
    expect((await againOnConnectionErrors(m.run, (e) => said.push(e))).rps).toBe(880);
    expect(m.calls()).toBe(2);
    expect(said).toEqual([34]);
  });

  it("keeps the second attempt's errors, so errors that recur still fail the run", async () => {
    const m = runs({ errors: 5, non2xx: 0, rps: 300 }, { errors: 7, non2xx: 0, rps: 310 });
    expect((await againOnConnectionErrors(m.run, () => {})).errors).toBe(7);
    expect(m.calls()).toBe(2);
  });

  it("never measures again a round with non-2xx answers, errors or not", async () => {
    const m = runs({ errors: 3, non2xx: 12, rps: 500 });
    const said: number[] = [];
    expect((await againOnConnectionErrors(m.run, (e) => said.push(e))).non2xx).toBe(12);
    expect(m.calls()).toBe(1);
    expect(said).toEqual([]);
  });
});
