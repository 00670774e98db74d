import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { REPLAY_CLAIM_MS } from "../../src/kernel/notify/replay";
import { modules } from "../../src/modules";
import { d1Refusing, testApp } from "../helpers";
import { callerOf, newTenant, rootKey } from "../identity/helpers";
import { storeMailLetters } from "./mail-letters";

beforeEach(() => {
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

/** A platform whose D1 refuses the statement that marks mail letters replayed while `down.mark`, and whose MAIL queue keeps the mail ids it takes (refusing all while `down.queue`). */
function platform() {
  const down = { mark: false, queue: false };
  const taken: string[] = [];
  const DB = d1Refusing((query) => down.mark && /^update "mail_dead_letters" set "replayed_at"/.test(query));
  const refuse = () => {
    if (down.queue) throw new Error("Queue send failed: service unavailable");
  };
  const MAIL = {
    send: async (body: { id: string }) => {
      refuse();
      taken.push(body.id);
    },
    sendBatch: async (messages: readonly MessageSendRequest<{ id: string }>[]) => {
      refuse();
      taken.push(...messages.map((m) => m.body.id));
    },
  } as unknown as Queue;
  const clock = manualClock("2026-07-03T10:00:00.000Z");
  const call = callerOf(testApp(modules, { DB, MAIL }, MIGRATIONS, clock).fetch);
  const replay = (id: string) =>
    call(`/api/v1/platform/mail/dead-letters/${id}/replay`, { token: rootKey(), method: "POST" });
  const replayPending = (tenantId: string) =>
    call("/api/v1/platform/mail/replay-dead-letters", { token: rootKey(), body: { tenant_id: tenantId } });
  /** The letter as the operator's list of the tenant's pending mail letters shows it. */
  const listed = async (tenantId: string, id: string) => {
    const r = await call(`/api/v1/platform/mail/dead-letters?tenant_id=${tenantId}&pending=true`, { token: rootKey() });
    return (r.body.items as { id: string }[]).find((l) => l.id === id);
  };
  return { down, taken, clock, replay, replayPending, listed };
}

/** `n` mail dead letters of tenant `tenantId`: their letter ids and mail ids. */
const lettersOf = (tenantId: string, n: number) => storeMailLetters("claim", tenantId, n);

describe("a mail dead letter whose replay could not be marked", () => {
  it("is not sent again by a second replay, nor by replay-pending, while its claim lives", async () => {
    const t = await newTenant("claim");
    const { ids, mailIds } = await lettersOf(t.id, 1);
    const p = platform();

    p.down.mark = true;
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    expect((await p.replay(ids[0] ?? "")).status).toBe(500);
    p.down.mark = false;
    expect(p.taken).toEqual(mailIds);
    // The 500 does not hide that the mail went.
    expect(errors.mock.calls.map((args) => String(args[0])).join("\n")).toContain("replayed but not marked");

    const again = await p.replay(ids[0] ?? "");
    expect(again.status, JSON.stringify(again.body)).toBe(409);
    expect(again.body.code).toBe("conflict");
    const pending = await p.replayPending(t.id);
    expect(pending.body).toEqual({ replayed: 0, more: false });
    expect(p.taken).toEqual(mailIds);
    // Listed as pending, with when the claim that holds it off lapses.
    const lapses = new Date(p.clock.now().getTime() + REPLAY_CLAIM_MS).toISOString();
    expect(await p.listed(t.id, ids[0] ?? "")).toMatchObject({ replayed_at: null, replay_claim_lapses_at: lapses });
  });

  it("is pending again once its claim outlived the claim's lifetime (a replay that died), and sent once more", async () => {
    const t = await newTenant("claim");
    const { ids, mailIds } = await lettersOf(t.id, 1);
    const p = platform();
    p.down.mark = true;
    expect((await p.replay(ids[0] ?? "")).status).toBe(500);
    p.down.mark = false;

    p.clock.advance(REPLAY_CLAIM_MS - 1_000);
    expect((await p.replayPending(t.id)).body).toEqual({ replayed: 0, more: false });
    p.clock.advance(2_000);
    expect((await p.replayPending(t.id)).body).toEqual({ replayed: 1, more: false });
    expect((await p.replayPending(t.id)).body).toEqual({ replayed: 0, more: false });
    expect(p.taken).toEqual([...mailIds, ...mailIds]);
  });

  it("by replay-pending is not sent again by the next replay-pending", async () => {
    const t = await newTenant("claim");
    const { mailIds } = await lettersOf(t.id, 3);
    const p = platform();
    p.down.mark = true;
    expect((await p.replayPending(t.id)).status).toBe(500);
    p.down.mark = false;
    expect([...p.taken].sort()).toEqual([...mailIds].sort());

    expect((await p.replayPending(t.id)).body).toEqual({ replayed: 0, more: false });
    expect([...p.taken].sort()).toEqual([...mailIds].sort());
  });
});

describe("claims", () => {
  it("a page of 100 small letters, sent in one group, is marked replayed and its claims ended, within D1's bound parameters", async () => {
    const t = await newTenant("claim");
    const { mailIds } = await lettersOf(t.id, 100);
    const p = platform();
    const first = await p.replayPending(t.id);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ replayed: 100, more: false });
    // Were any left claimed but not marked, they would be sent again once the claims lapsed.
    p.clock.advance(REPLAY_CLAIM_MS + 1_000);
    expect((await p.replayPending(t.id)).body).toEqual({ replayed: 0, more: false });
    expect([...p.taken].sort()).toEqual([...mailIds].sort());
  });

  it("a page of 100 the queue refused is pending again at once, all of it", async () => {
    const t = await newTenant("claim");
    const { mailIds } = await lettersOf(t.id, 100);
    const p = platform();
    p.down.queue = true;
    expect((await p.replayPending(t.id)).status).toBe(500);
    p.down.queue = false;
    expect((await p.replayPending(t.id)).body).toEqual({ replayed: 100, more: false });
    expect([...p.taken].sort()).toEqual([...mailIds].sort());
  });

  it("two replays of one letter at once send it once", async () => {
    const t = await newTenant("claim");
    const { ids, mailIds } = await lettersOf(t.id, 1);
    const p = platform();
    const statuses = (await Promise.all([p.replay(ids[0] ?? ""), p.replay(ids[0] ?? "")])).map((r) => r.status);
    expect(statuses.sort()).toEqual([202, 409]);
    expect(p.taken).toEqual(mailIds);
  });

  it("a replay the mail queue refused leaves its letter pending at once, not after the claim's lifetime", async () => {
    const t = await newTenant("claim");
    const { ids, mailIds } = await lettersOf(t.id, 2);
    const p = platform();
    p.down.queue = true;
    expect((await p.replay(ids[0] ?? "")).status).toBe(500);
    expect((await p.replayPending(t.id)).status).toBe(500);
    p.down.queue = false;
    expect(p.taken).toEqual([]);

    expect((await p.replayPending(t.id)).body).toEqual({ replayed: 2, more: false });
    expect([...p.taken].sort()).toEqual([...mailIds].sort());
  });
});
