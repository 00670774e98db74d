// A sign-in under way is sealed into its `state` (sso/state.ts), not stored: `/auth/sso/start` is
// anonymous and limited per address, and each stored start used to keep a row that many addresses
// could push a real user's out of (10,000 starts while that user was at the provider). The directory
// keeps only the states that callbacks the provider answered spent, bounded, until they expire.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { wasmAead } from "../../src/kernel/crypto/aead";
import { Envelope, parseMasterKeys } from "../../src/kernel/crypto/envelope";
import { declaredSealedKinds } from "../../src/kernel/crypto/sealed-kinds";
import { sealerFor } from "../../src/kernel/crypto/tenant-envelope";
import { modules } from "../../src/modules";
import { directory } from "../../src/modules/identity/directory/contract";
import { MAX_SPENT_STATES } from "../../src/modules/identity/directory/sso";
import {
  codeVerifierOf,
  MAX_STATE_LENGTH,
  nonceOf,
  openState,
  type PendingSignIn,
  providerTag,
  SSO_STATE_FIELD,
  sealState,
} from "../../src/modules/identity/sso/state";
import { keyedEnvelope } from "../helpers";
import { newTenant } from "./helpers";
import { ssoKit } from "./sso-helpers";
import { platformAt } from "./two-factor-helpers";

const p = platformAt("2026-04-02T10:00:00.000Z");
const { tenantWithSso } = ssoKit(p, "sso-states");

const isoIn = (ms: number) => new Date(p.clock.now().getTime() + ms).toISOString();
const KEYS = JSON.stringify([{ version: 1, key: "k".repeat(43) }]);
const envelope = () => keyedEnvelope(KEYS, p.clock);
const IDENTITY_KINDS = declaredSealedKinds(modules);
const hashOf = () => `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", "");

const APP = "https://app.example.com/signed-in";

/**
 * Longer than any sign-in under way: an explicit link begun with a recovery code, with an app
 * redirect, and bound to a browser besides (a link is never: its start is a fetch).
 */
const pending = (): PendingSignIn => ({
  seed: "s".repeat(43),
  expiresAt: isoIn(600_000),
  appRedirect: APP,
  linkUserId: "u".repeat(64),
  linkRecoveryHash: "a".repeat(64),
  linkSecondFactor: true,
  browser: "b".repeat(22),
});

describe("a sign-in under way, sealed into its state", () => {
  it("opens only for its tenant and provider, unaltered, unexpired, with its app redirect still allowed", async () => {
    const provider = await providerTag("https://login.example.com", "plinth");
    // Tenants the registry holds: the envelope seals for no other (kernel/crypto/registered-seeds.ts).
    const [a, b] = [(await newTenant("ssa")).id, (await newTenant("ssb")).id];
    const state = await sealState(sealerFor(envelope(), a), provider, pending());
    expect(state.length).toBeLessThanOrEqual(MAX_STATE_LENGTH);
    const expect_ = { provider, now: p.clock.now().toISOString(), appRedirects: [APP] };
    expect(await openState(sealerFor(envelope(), a), state, expect_)).toEqual(pending());

    // Another tenant's callback, an altered state, a forged one: none opens.
    expect(await openState(sealerFor(envelope(), b), state, expect_)).toBeNull();
    // The character before the last, always changed (the last may carry only padding bits).
    const altered = `${state.slice(0, -2)}${state.at(-2) === "A" ? "B" : "A"}${state.slice(-1)}`;
    expect(altered).not.toBe(state);
    expect(await openState(sealerFor(envelope(), a), altered, expect_)).toBeNull();
    expect(await openState(sealerFor(envelope(), a), "forged-state", expect_)).toBeNull();
    // The provider replaced (issuer or client), the app redirect removed since, or expired: refused.
    const other = await providerTag("https://login.example.com", "another-client");
    expect(await openState(sealerFor(envelope(), a), state, { ...expect_, provider: other })).toBeNull();
    expect(await openState(sealerFor(envelope(), a), state, { ...expect_, appRedirects: [] })).toBeNull();
    expect(await openState(sealerFor(envelope(), a), state, { ...expect_, now: isoIn(600_000) })).toBeNull();
  });

  it("a tenant whose key material is gone refuses the state; a directory that does not answer is an outage, not a bad state", async () => {
    const provider = await providerTag("https://login.example.com", "plinth");
    const c = (await newTenant("ssc")).id;
    const state = await sealState(sealerFor(envelope(), c), provider, pending());
    const expect_ = { provider, now: p.clock.now().toISOString(), appRedirects: [APP] };
    const shredded = new Envelope(wasmAead, parseMasterKeys(KEYS), { seed: async () => null }, IDENTITY_KINDS);
    expect(await openState(sealerFor(shredded, c), state, expect_)).toBeNull();
    const down = new Envelope(
      wasmAead,
      parseMasterKeys(KEYS),
      {
        seed: async () => {
          throw new Error("the directory did not answer");
        },
      },
      IDENTITY_KINDS,
    );
    await expect(openState(sealerFor(down, c), state, expect_)).rejects.toThrow("the directory did not answer");
  });

  it("a state sealed before sign-ins were bound to browsers (no binding field) does not open", async () => {
    // Else a start by navigation sealed by the earlier code would complete in any browser (login CSRF).
    const provider = await providerTag("https://login.example.com", "plinth");
    const unbound = { s: "s".repeat(43), e: isoIn(600_000), p: provider, r: null, u: null, h: null, f: false };
    const d = (await newTenant("ssd")).id;
    const state = await envelope().encrypt(d, SSO_STATE_FIELD, JSON.stringify(unbound));
    const expect_ = { provider, now: p.clock.now().toISOString(), appRedirects: [] };
    expect(await openState(sealerFor(envelope(), d), state, expect_)).toBeNull();
    const bound = await envelope().encrypt(d, SSO_STATE_FIELD, JSON.stringify({ ...unbound, b: null }));
    expect(await openState(sealerFor(envelope(), d), bound, expect_)).toMatchObject({ browser: null });
  });

  it("carries one secret: the PKCE verifier, from which the nonce is derived", async () => {
    const seed = "x".repeat(43);
    expect(codeVerifierOf(seed)).toBe(seed);
    expect(await nonceOf(seed)).toBe(await nonceOf(seed));
    expect(await nonceOf(seed)).not.toBe(await nonceOf("y".repeat(43)));
    expect(await nonceOf(seed)).not.toContain(seed);
  });
});

/** Adds `count` spent states directly to the directory, expiring at `expiresAt`. */
const addSpent = (tenantId: string, tag: string, count: number, expiresAt: string) =>
  runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) => {
    state.storage.sql.exec(
      `with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
       insert into sso_spent_states (state_hash, expires_at) select printf('%s%060x', ?, i), ? from n`,
      count,
      tag,
      expiresAt,
    );
  });

const rows = (tenantId: string) =>
  runInDurableObject(
    env.TENANT_DIRECTORY.getByName(tenantId),
    (_, state) => state.storage.sql.exec<{ n: number }>("select count(*) as n from sso_spent_states").one().n,
  );

const spend = (tenantId: string, stateHash: string) =>
  directory(env, tenantId).ssoSpendState({
    ctx: { now: p.clock.now().toISOString(), actor: { kind: "anonymous", id: null }, requestId: null },
    stateHash,
    expiresAt: isoIn(600_000),
  });

describe("spent states, per tenant", () => {
  it("a state is spent once: a second spend (a replay, or a callback that lost a race) is refused", async () => {
    const t = await tenantWithSso();
    const hash = hashOf();
    expect(await directory(env, t.id).ssoStateSpent({ stateHash: hash })).toBe(false);
    expect(await spend(t.id, hash)).toEqual({ ok: true, value: { evicted: 0 } });
    expect(await directory(env, t.id).ssoStateSpent({ stateHash: hash })).toBe(true);
    expect(await spend(t.id, hash)).toEqual({ ok: false, error: "spent" });
    // Forgotten once expired, when the sealed state no longer opens anyway.
    p.clock.advance(600_001);
    const long = "2000-01-01T00:00:00.000Z";
    await directory(env, t.id).purgeExpired({
      now: p.clock.now().toISOString(),
      keysExpiredBefore: long,
      invitationsEndedBefore: long,
    });
    expect(await directory(env, t.id).ssoStateSpent({ stateHash: hash })).toBe(false);
  });

  it(`past ${MAX_SPENT_STATES} kept, a spend forgets the one expiring first; expired ones are swept first`, async () => {
    const t = await tenantWithSso();
    await addSpent(t.id, "0000", 300, isoIn(-1));
    await addSpent(t.id, "2222", 1, isoIn(60_000));
    await addSpent(t.id, "3333", MAX_SPENT_STATES - 2, isoIn(500_000));
    const earliest = `2222${(1).toString(16).padStart(60, "0")}`;

    expect(await spend(t.id, hashOf())).toEqual({ ok: true, value: { evicted: 0 } });
    expect(await rows(t.id)).toBe(MAX_SPENT_STATES);
    expect(await spend(t.id, hashOf())).toEqual({ ok: true, value: { evicted: 1 } });
    expect(await rows(t.id)).toBe(MAX_SPENT_STATES);
    expect(await directory(env, t.id).ssoStateSpent({ stateHash: earliest })).toBe(false);
  });

  it("looks spent states up by expiry through an index, not a walk of the table", async () => {
    const t = await tenantWithSso();
    const plans = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) =>
      [
        "delete from sso_spent_states where expires_at <= '2026'",
        "select state_hash from sso_spent_states order by expires_at limit 1",
      ].map((q) =>
        state.storage.sql
          .exec<{ detail: string }>(`explain query plan ${q}`)
          .toArray()
          .map((r) => r.detail)
          .join("; "),
      ),
    );
    for (const plan of plans) expect(plan).toMatch(/USING (COVERING )?INDEX sso_spent_states_expires_at/);
  });

  it("the old table of sign-ins under way is gone: a start has nowhere to store one", async () => {
    const t = await tenantWithSso();
    const tables = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) =>
      state.storage.sql
        .exec<{ name: string }>("select name from sqlite_master where type = 'table' and name like 'sso_%'")
        .toArray()
        .map((r) => r.name),
    );
    expect(tables).not.toContain("sso_states");
    expect(tables).toContain("sso_spent_states");
  });
});
