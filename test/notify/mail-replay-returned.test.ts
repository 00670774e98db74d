// A replayed mail can fail again at once (the provider still answers 400, the content still does
// not open): the mail consumer stores it as a dead letter as soon as it takes it, under the new
// message id the replay's send gave it. Were that before the replay marked the letter replayed, the
// store found the letter neither replayed nor new (a duplicate) and the mark then said it went:
// the second failure was lost, and the letter sat replayed. The mark now ends only the replay's
// own claim, and a letter claimed by a replay takes its mail back as pending.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { mailDeadLetterStore } from "../../src/kernel/notify/dead-letters";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { callerOf, newTenant, rootKey } from "../identity/helpers";
import { storeMailLetters } from "./mail-letters";

beforeEach(() => {
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

type Body = { id: string };

/** A platform whose MAIL queue's consumer dead-letters every mail it takes at once, under a new message id. */
function platform() {
  const store = mailDeadLetterStore(env.DB);
  let n = 0;
  const failAgain = async (body: Body) => {
    n++;
    const message = { id: `again-${n}-${body.id}`, attempts: 1, body } as unknown as Message<unknown>;
    await store.store("plinth-mail", message, "provider refused: 422", new Date());
  };
  const MAIL = {
    send: async (body: Body) => failAgain(body),
    sendBatch: async (messages: readonly MessageSendRequest<Body>[]) => {
      for (const m of messages) await failAgain(m.body);
    },
  } as unknown as Queue;
  const clock = manualClock("2026-07-03T10:00:00.000Z");
  const call = callerOf(testApp(modules, { MAIL }, MIGRATIONS, clock).fetch);
  const replay = (id: string) =>
    call(`/api/v1/platform/mail/dead-letters/${id}/replay`, { token: rootKey(), method: "POST" });
  const replayPending = (tenantId: string) =>
    call("/api/v1/platform/mail/replay-dead-letters", { token: rootKey(), body: { tenant_id: tenantId } });
  return { replay, replayPending };
}

/** `n` mail dead letters of tenant `tenantId`: their letter ids. */
const lettersOf = async (tenantId: string, n: number): Promise<string[]> =>
  (await storeMailLetters("returned", tenantId, n)).ids;

describe("a replayed mail that fails again before its replay is marked", () => {
  it("leaves its letter pending, as the new failure (replay by id)", async () => {
    const t = await newTenant("returned");
    const [id = ""] = await lettersOf(t.id, 1);
    const p = platform();
    expect((await p.replay(id)).status).toBe(202);
    const letters = await mailDeadLetterStore(env.DB).list(10, { tenantId: t.id });
    expect(letters).toEqual([
      expect.objectContaining({ id, replayed_at: null, message_id: `again-1-returned-${t.id}-0` }),
    ]);
    // Pending, so the operator's next replay-pending sends it (and here it fails again, and waits again).
    expect((await p.replayPending(t.id)).body).toMatchObject({ replayed: 1 });
  });

  it("leaves its letters pending, as the new failures (replay-pending)", async () => {
    const t = await newTenant("returned");
    const ids = await lettersOf(t.id, 3);
    const p = platform();
    expect((await p.replayPending(t.id)).body).toEqual({ replayed: 3, more: true });
    const letters = await mailDeadLetterStore(env.DB).list(10, { tenantId: t.id, pending: true });
    expect(letters.map((l) => l.id).sort()).toEqual([...ids].sort());
  });

  it("of a letter already replayed, replayed again by id, leaves it pending too", async () => {
    const t = await newTenant("returned");
    const [id = ""] = await lettersOf(t.id, 1);
    await env.DB.prepare("update mail_dead_letters set replayed_at = ? where id = ?")
      .bind("2026-07-03T09:00:00.000Z", id)
      .run();
    expect(await mailDeadLetterStore(env.DB).list(10, { tenantId: t.id, pending: true })).toEqual([]);
    const p = platform();
    expect((await p.replay(id)).status).toBe(202);
    const [letter] = await mailDeadLetterStore(env.DB).list(10, { tenantId: t.id });
    expect(letter).toMatchObject({ id, replayed_at: null });
  });
});
