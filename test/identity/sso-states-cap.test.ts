// Sign-ins under way (`sso_states`) are bounded per tenant directory: `/auth/sso/start` is anonymous,
// limited per IP only, and each start keeps a row for 10 minutes.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { MAX_OPEN_STATES } from "../../src/modules/identity/directory/sso";
import { retryAfterSeconds } from "../../src/modules/identity/sso/begin";
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

describe("sign-ins under way, per tenant", () => {
  it(`refuses a start past ${MAX_OPEN_STATES} open ones until the oldest expires; expired and spent ones are swept first`, async () => {
    const t = await tenantWithSso();
    // Expired and spent rows would fill the table; they are swept before counting.
    await addStates(t.id, "0000", 300, isoIn(-1));
    await addStates(t.id, "1111", 200, isoIn(300_000), isoIn(-5_000));
    // Open ones: the oldest expires in a minute.
    await addStates(t.id, "2222", 1, isoIn(60_000));
    await addStates(t.id, "3333", MAX_OPEN_STATES - 2, isoIn(500_000));

    const last = await begin(t.id);
    expect(last, JSON.stringify(last)).toEqual({ ok: true, value: null });
    expect(await rows(t.id)).toBe(MAX_OPEN_STATES);

    const refused = await begin(t.id);
    expect(refused).toEqual({ ok: false, error: "too_many", retryAt: isoIn(60_000) });
    expect(await rows(t.id)).toBe(MAX_OPEN_STATES);

    // The oldest expired: there is room for one.
    p.clock.advance(60_000);
    expect(await begin(t.id)).toEqual({ ok: true, value: null });
    expect((await begin(t.id)).ok).toBe(false);
    expect(await rows(t.id)).toBe(MAX_OPEN_STATES);
  });

  it("tells the browser when to retry: the seconds until the oldest open sign-in expires, at least 1", () => {
    const now = new Date("2026-04-02T10:00:00.000Z");
    expect(retryAfterSeconds("2026-04-02T10:01:00.000Z", now)).toBe(60);
    expect(retryAfterSeconds("2026-04-02T10:00:00.400Z", now)).toBe(1);
    expect(retryAfterSeconds("2026-04-02T09:59:59.000Z", now)).toBe(1);
  });
});
