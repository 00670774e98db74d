// Sign-ins under way (`sso_states`) are bounded per tenant directory: `/auth/sso/start` is anonymous,
// limited per IP only, and each start keeps a row for 10 minutes.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { MAX_OPEN_STATES } from "../../src/modules/identity/directory/sso";
import { ssoKit } from "./sso-helpers";
import { platformAt } from "./two-factor-helpers";

const p = platformAt("2026-04-02T10:00:00.000Z");
const { tenantWithSso } = ssoKit(p, "sso-cap");

const isoIn = (ms: number) => new Date(p.clock.now().getTime() + ms).toISOString();

/** A start as the Worker hands it to the directory, at the clock's time. */
const begin = (tenantId: string) =>
  directory(env, tenantId).ssoBegin({
    ctx: { now: p.clock.now().toISOString(), actor: { kind: "anonymous", id: null }, requestId: null },
    stateHash: `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", ""),
    nonce: "n".repeat(32),
    codeVerifier: "v".repeat(43),
    appRedirect: null,
    expiresAt: isoIn(600_000),
    link: null,
  });

/** Adds `count` sign-ins under way directly to the directory, expiring at `expiresAt`, spent at `usedAt`. */
const addStates = (tenantId: string, tag: string, count: number, expiresAt: string, usedAt: string | null = null) =>
  runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) => {
    state.storage.sql.exec(
      `with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
       insert into sso_states (state_hash, nonce, code_verifier, app_redirect, expires_at, used_at)
       select printf('%s%060x', ?, i), 'n', 'v', null, ?, ? from n`,
      count,
      tag,
      expiresAt,
      usedAt,
    );
  });

const rows = (tenantId: string) =>
  runInDurableObject(
    env.TENANT_DIRECTORY.getByName(tenantId),
    (_, state) => state.storage.sql.exec<{ n: number }>("select count(*) as n from sso_states").one().n,
  );

const hasState = (tenantId: string, stateHash: string) =>
  runInDurableObject(
    env.TENANT_DIRECTORY.getByName(tenantId),
    (_, state) =>
      state.storage.sql
        .exec<{ n: number }>("select count(*) as n from sso_states where state_hash = ?", stateHash)
        .one().n === 1,
  );

describe("sign-ins under way, per tenant", () => {
  it(`past ${MAX_OPEN_STATES} open ones, a start forgets the one expiring first instead of being refused; expired ones are swept first`, async () => {
    // A refusal (429 until the oldest expired) let ~17 addresses, each within its own limit,
    // keep every sign-in of the tenant out for as long as they kept starting.
    const t = await tenantWithSso();
    // Expired rows would fill the table; they are swept before counting.
    await addStates(t.id, "0000", 300, isoIn(-1));
    // Open ones: the oldest expires in a minute.
    await addStates(t.id, "2222", 1, isoIn(60_000));
    await addStates(t.id, "3333", MAX_OPEN_STATES - 3, isoIn(500_000));
    // Marked spent by a build from before spent states were deleted: still open until they expire.
    await addStates(t.id, "1111", 1, isoIn(550_000), isoIn(-5_000));
    const oldest = `2222${(1).toString(16).padStart(60, "0")}`;
    expect(await hasState(t.id, oldest)).toBe(true);

    const last = await begin(t.id);
    expect(last, JSON.stringify(last)).toEqual({ ok: true, value: { evicted: 0 } });
    expect(await rows(t.id)).toBe(MAX_OPEN_STATES);

    const past = await begin(t.id);
    expect(past, JSON.stringify(past)).toEqual({ ok: true, value: { evicted: 1 } });
    expect(await rows(t.id)).toBe(MAX_OPEN_STATES);
    expect(await hasState(t.id, oldest)).toBe(false);

    const again = await begin(t.id);
    expect(again).toEqual({ ok: true, value: { evicted: 1 } });
    expect(await rows(t.id)).toBe(MAX_OPEN_STATES);
  });

  it("looks states up by expiry through an index, not a walk of the table", async () => {
    const t = await tenantWithSso();
    const plans = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) =>
      [
        "delete from sso_states where expires_at <= '2026'",
        "select state_hash from sso_states order by expires_at limit 1",
      ].map((q) =>
        state.storage.sql
          .exec<{ detail: string }>(`explain query plan ${q}`)
          .toArray()
          .map((r) => r.detail)
          .join("; "),
      ),
    );
    for (const plan of plans) expect(plan).toMatch(/USING (COVERING )?INDEX sso_states_expires_at/);
  });
});
