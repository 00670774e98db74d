import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { REPLAY_CLAIM_MS } from "../../src/kernel/queues/replay-claim";
import { modules } from "../../src/modules";
import { d1Refusing, testApp } from "../helpers";
import { callerOf, newKey, newTenant, rootKey } from "../identity/helpers";
import { eventLetterOf } from "./dead-letter-fixtures";

beforeEach(() => {
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const RECORD = "events.dead_letter.replayed";

/** A platform whose D1 refuses the statement that marks event letters replayed while `down.mark`, and whose EVENTS queue keeps the types it takes (refusing all while `down.queue`). */
function platform() {
  const down = { mark: false, queue: false };
  const taken: string[] = [];
  const DB = d1Refusing((query) => down.mark && /^update "dead_letters" set "replayed_at"/.test(query));
  const EVENTS = {
    send: async () => {
      throw new Error("a replay sends its event and its record in one sendBatch");
    },
    sendBatch: async (messages: readonly MessageSendRequest<{ type: string }>[]) => {
      if (down.queue) throw new Error("Queue send failed: service unavailable");
      taken.push(...messages.map((m) => m.body.type));
    },
  } as unknown as Queue;
  const clock = manualClock("2026-07-03T10:00:00.000Z");
  const call = callerOf(testApp(modules, { DB, EVENTS }, MIGRATIONS, clock).fetch);
  const replay = (id: string) =>
    call(`/api/v1/platform/events/dead-letters/${id}/replay`, { token: rootKey(), method: "POST" });
  const replayAs = (token: string, id: string) =>
    call(`/api/v1/admin/dead-letters/${id}/replay`, { token, method: "POST" });
  /** The letter as the operator's list and the tenant admin's list show it. */
  const listed = async (tenantId: string, adminKey: string, id: string) => {
    const lists = [
      await call(`/api/v1/platform/events/dead-letters?tenant_id=${tenantId}&pending=true`, { token: rootKey() }),
      await call("/api/v1/admin/dead-letters", { token: adminKey }),
    ];
    type Listed = { id: string; replayed_at: string | null; replay_claim_lapses_at: string | null };
    return lists.map((r) => (r.body.items as Listed[]).find((d) => d.id === id));
  };
  return { down, taken, clock, replay, replayAs, listed };
}

/** What one replay sends: the event, and its record for the audit log. */
const ONCE = ["gone.thing.happened", RECORD];

describe("an event dead letter whose replay could not be marked", () => {
  it("is not sent again, nor recorded again, by a second replay while its claim lives", async () => {
    const t = await newTenant("claim");
    const letter = await eventLetterOf(t.id, "claim");
    const p = platform();

    p.down.mark = true;
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    expect((await p.replay(letter.id)).status).toBe(500);
    p.down.mark = false;
    expect(p.taken).toEqual(ONCE);
    // The 500 does not hide that the event went.
    expect(errors.mock.calls.map((args) => String(args[0])).join("\n")).toContain(
      "event dead letters replayed but not marked",
    );

    const again = await p.replay(letter.id);
    expect(again.status, JSON.stringify(again.body)).toBe(409);
    expect(again.body.code).toBe("conflict");
    // The tenant's admin is held off as the operator is.
    const { key } = await newKey(t.adminKey, ["admin.events.write"]);
    expect((await p.replayAs(key, letter.id)).status).toBe(409);
    expect(p.taken).toEqual(ONCE);
  });

  it("can be replayed once more after the claim's lifetime (a replay that died mid-way)", async () => {
    const t = await newTenant("claim");
    const letter = await eventLetterOf(t.id, "claim");
    const p = platform();
    p.down.mark = true;
    expect((await p.replay(letter.id)).status).toBe(500);
    p.down.mark = false;

    p.clock.advance(REPLAY_CLAIM_MS - 1_000);
    expect((await p.replay(letter.id)).status).toBe(409);
    p.clock.advance(2_000);
    expect((await p.replay(letter.id)).status).toBe(202);
    expect(p.taken).toEqual([...ONCE, ...ONCE]);
  });

  it("is listed, pending, with when its claim lapses, which a replay that marks it clears", async () => {
    const t = await newTenant("claim");
    const letter = await eventLetterOf(t.id, "claim");
    const p = platform();
    const free = await p.listed(t.id, t.adminKey, letter.id);
    expect(free.map((l) => l?.replay_claim_lapses_at)).toEqual([null, null]);

    p.down.mark = true;
    const claimedAt = p.clock.now().getTime();
    expect((await p.replay(letter.id)).status).toBe(500);
    p.down.mark = false;
    // Still pending (not replayed), and the lists say why a replay of it answers 409 until when.
    const held = await p.listed(t.id, t.adminKey, letter.id);
    expect(held.map((l) => [l?.replayed_at, l?.replay_claim_lapses_at])).toEqual([
      [null, new Date(claimedAt + REPLAY_CLAIM_MS).toISOString()],
      [null, new Date(claimedAt + REPLAY_CLAIM_MS).toISOString()],
    ]);

    p.clock.advance(REPLAY_CLAIM_MS + 1_000);
    expect((await p.replay(letter.id)).status).toBe(202);
    const [, marked] = await p.listed(t.id, t.adminKey, letter.id);
    expect(marked).toMatchObject({ replayed_at: p.clock.now().toISOString(), replay_claim_lapses_at: null });
  });
});

describe("event dead letter claims", () => {
  it("two replays of one letter at once send it once", async () => {
    const t = await newTenant("claim");
    const letter = await eventLetterOf(t.id, "claim");
    const p = platform();
    const statuses = (await Promise.all([p.replay(letter.id), p.replay(letter.id)])).map((r) => r.status);
    expect(statuses.sort()).toEqual([202, 409]);
    expect(p.taken).toEqual(ONCE);
  });

  it("a replay the events queue refused leaves its letter replayable at once, and a marked one replayable again", async () => {
    const t = await newTenant("claim");
    const letter = await eventLetterOf(t.id, "claim");
    const p = platform();
    p.down.queue = true;
    expect((await p.replay(letter.id)).status).toBe(500);
    p.down.queue = false;
    expect(p.taken).toEqual([]);
    expect((await p.replay(letter.id)).status).toBe(202);
    // Marked replayed, its claim ended: the operator's explicit second replay is theirs to make.
    expect((await p.replay(letter.id)).status).toBe(202);
    expect(p.taken).toEqual([...ONCE, ...ONCE]);
  });
});
