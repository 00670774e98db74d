// Retiring an ENCRYPTION_KEYS version (docs/operations.md, "Rotating keys"): values sealed
// under v1, v2 put first, the re-encryption run, v1 removed, and everything still opens.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { parseConfig } from "../../src/kernel/config";
import { base64UrlEncode } from "../../src/kernel/crypto";
import type { ModuleRuntime } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { directory } from "../../src/modules/identity/directory/contract";
import { directorySealed } from "../../src/modules/identity/sealed";
import { SSO_SECRET_FIELD } from "../../src/modules/identity/sso/secrets";
import { endpointActor, registry } from "../../src/modules/webhooks/contract";
import { secretField } from "../../src/modules/webhooks/secrets";
import { keyedEnvelope, testApp, testRuntime } from "../helpers";
import { callerOf, PASSWORD } from "../identity/helpers";
import { codeAt } from "../identity/two-factor-helpers";
import { enrolledTotp, type KeyedCall, keyedPlatform, tenantOn } from "./keyed-platform";

type Json = Record<string, unknown>;

// The tenants made here must be the newest ids in this workerd's storage, so a run over "every
// tenant after the marker" touches only them: the test moves this clock past every tenant id
// before it makes its marker (pastEveryTenant), as another file's clock may be later.
const clock = manualClock("2045-01-01T00:00:10.000Z");

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * Moves the clock past the newest tenant id (a ULID: its first 10 characters are its
 * millisecond) of this workerd's registry. The files of a worker share it and run one at a
 * time, so no other tenant comes after the ones the test makes next. unseal-failures.test.ts
 * makes its tenants in 2046, sealed under versions these keys lack: run first, the walk after
 * the marker met one and answered it with an error.
 */
async function pastEveryTenant(): Promise<void> {
  const row = await env.DB.prepare("select max(id) as id from tenants").first<{ id: string | null }>();
  if (!row?.id) return;
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(row.id)) throw new Error(`tenant id ${row.id} is not a ULID`);
  const newest = [...row.id.slice(0, 10)].reduce((ms, c) => ms * 32 + CROCKFORD.indexOf(c), 0);
  if (newest >= clock.now().getTime()) clock.set(new Date(newest + 1_000));
}
// The pool's own ENCRYPTION_KEYS (version 1), which the objects' env holds too.
const V1 = JSON.parse(String(testRuntime().config.encryptionKeys)) as { version: number; key: string }[];
const v2 = { version: 2, key: base64UrlEncode(crypto.getRandomValues(new Uint8Array(32))) };
const KEYS = {
  v1: JSON.stringify(V1),
  rotated: JSON.stringify([v2, ...V1]),
  v2only: JSON.stringify([v2]),
};

/** The platform (every registered module) with `encryptionKeys` as ENCRYPTION_KEYS. */
const platform = (encryptionKeys: string | undefined) => keyedPlatform(encryptionKeys, clock);
type Call = KeyedCall;
const root = String(env.PLATFORM_ROOT_KEY);

const newTenant = (call: Call, prefix: string) => tenantOn(call, clock, prefix);

/** A tenant with one of each sealed value: a webhook endpoint (its actor holding a copy), SSO, a TOTP user. */
async function sealedTenant(call: Call, prefix: string) {
  const t = await newTenant(call, prefix);
  const hook = await call("/api/v1/admin/webhooks", {
    token: t.adminKey,
    body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  const endpoint = { id: String(hook.body.id), secret: String(hook.body.secret) };
  // Disabling pushes the endpoint's config (with its sealed secret) to its actor, and nothing is delivered.
  const off = await call(`/api/v1/admin/webhooks/${endpoint.id}`, {
    method: "PATCH",
    token: t.adminKey,
    body: { enabled: false },
  });
  expect(off.status, JSON.stringify(off.body)).toBe(200);
  for (let i = 0; (await endpointActor(env, t.id, endpoint.id).sealedSecrets({})).length === 0; i++) {
    if (i > 200) throw new Error("the endpoint's config never reached its actor");
    await runDurableObjectAlarm(env.WEBHOOK_REGISTRY.getByName(t.id));
    await new Promise((r) => setTimeout(r, 20));
  }
  const sso = await call("/api/v1/admin/sso", {
    method: "PUT",
    token: t.adminKey,
    body: {
      issuer: "https://login.example.com",
      client_id: "plinth",
      client_secret: `sso-secret-${prefix}`,
      allowed_domains: ["example.com"],
      role_mapping: [],
      default_role: "member",
    },
  });
  expect(sso.status, JSON.stringify(sso.body)).toBe(200);
  const email = `ada-${prefix}@example.com`;
  const totp = await totpSecret(call, t.slug, email);
  return { ...t, endpoint, email, totp, ssoSecret: `sso-secret-${prefix}` };
}

/** Registers `email` in the tenant and enrols it in two-factor sign-in; its TOTP secret. */
const totpSecret = async (call: Call, slug: string, email: string) =>
  (await enrolledTotp(call, clock, slug, email)).secret;

/** The test runtime with `encryptionKeys` as ENCRYPTION_KEYS, for a module's sealed fields called directly. */
function runtimeWith(encryptionKeys: string): ModuleRuntime {
  const keyed = { ...env, ENCRYPTION_KEYS: encryptionKeys };
  const parsed = parseConfig(keyed);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return { ...testRuntime(clock), env: keyed, config: parsed.config };
}
type SealedTenant = Awaited<ReturnType<typeof sealedTenant>>;

/** Every ciphertext the tenant's writers hold, as stored. */
async function ciphertexts(t: SealedTenant) {
  return {
    registry: await registry(env, t.id).sealedSecrets({}),
    endpoint: await endpointActor(env, t.id, t.endpoint.id).sealedSecrets({}),
    directory: (await directory(env, t.id).sealedValues({})).values,
  };
}

const versions = async (call: Call, tenantId: string) => {
  const res = await call(`/api/v1/platform/crypto/versions?tenant_id=${tenantId}`, { token: root });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.counts;
};
const reencrypt = (call: Call, body: Json, key = crypto.randomUUID()) =>
  call("/api/v1/platform/crypto/reencrypt", { token: root, body, headers: { "idempotency-key": key } });

/** A password login answered with a challenge, completed with the TOTP code of the next time step. */
async function totpLogin(call: Call, t: SealedTenant) {
  const first = await call("/api/v1/auth/login", { tenant: t.slug, body: { email: t.email, password: PASSWORD } });
  expect(first.body.two_factor_required, JSON.stringify(first.body)).toBe(true);
  clock.advance(30_000);
  const code = codeAt(t.totp, clock);
  return call("/api/v1/auth/two-factor", { tenant: t.slug, body: { challenge: first.body.challenge, code } });
}

const ALL_V1 = {
  "identity.sso.client_secret": { "1": 1, "2": 0 },
  "identity.totp": { "1": 1, "2": 0 },
  "webhooks.secret": { "1": 1, "2": 0 },
  "webhooks.secret.delivery_copy": { "1": 1, "2": 0 },
  "mail.dead_letter": { "1": 0, "2": 0 },
};
const ALL_V2 = {
  "identity.sso.client_secret": { "1": 0, "2": 1 },
  "identity.totp": { "1": 0, "2": 1 },
  "webhooks.secret": { "1": 0, "2": 1 },
  "webhooks.secret.delivery_copy": { "1": 0, "2": 1 },
  "mail.dead_letter": { "1": 0, "2": 0 },
};

describe("retiring an ENCRYPTION_KEYS version", () => {
  it("re-seals a tenant's values under v2, after which v1 can go and every secret still opens", async () => {
    const sealedUnderV1 = platform(KEYS.v1);
    await pastEveryTenant();
    const marker = await newTenant(sealedUnderV1, "rot-marker");
    const a = await sealedTenant(sealedUnderV1, "rot-a");
    const b = await sealedTenant(sealedUnderV1, "rot-b");
    const bBefore = await ciphertexts(b);

    // Step 1: v2 put first. New writes seal under it; nothing stored has moved yet.
    const rotated = platform(KEYS.rotated);
    expect(await versions(rotated, a.id)).toEqual(ALL_V1);

    // Step 2: the re-encryption of tenant A: each of its four values re-sealed by its writer.
    const first = await reencrypt(rotated, { tenant_id: a.id });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({
      current_version: 2,
      tenants: [{ tenant_id: a.id, resealed: 4, raced: 0, error: null }],
      next: null,
    });
    expect(await versions(rotated, a.id)).toEqual(ALL_V2);

    // Idempotent: a second run finds nothing stale and changes no ciphertext.
    const aAfter = await ciphertexts(a);
    const again = await reencrypt(rotated, { tenant_id: a.id });
    expect(again.body.tenants).toEqual([{ tenant_id: a.id, resealed: 0, raced: 0, error: null }]);
    expect(await ciphertexts(a)).toEqual(aAfter);

    // Tenant B was not touched: the same ciphertexts, all still v1.
    expect(await ciphertexts(b)).toEqual(bBefore);
    expect(await versions(rotated, b.id)).toEqual(ALL_V1);

    // Step 4 for A alone: v1 removed. The webhook secret (the registry's and the copy its actor
    // signs with) and the SSO client secret open to what they were; the TOTP login passes.
    const v2only = platform(KEYS.v2only);
    const open = keyedEnvelope(KEYS.v2only, clock);
    const now = await ciphertexts(a);
    for (const sealed of [...now.registry.map((s) => s.sealed), ...now.endpoint]) {
      expect(await open.decryptText(a.id, secretField(a.endpoint.id), sealed)).toBe(a.endpoint.secret);
    }
    const sso = now.directory.find((v) => v.kind === "identity.sso.client_secret");
    expect(await open.decryptText(a.id, SSO_SECRET_FIELD, String(sso?.sealed))).toBe(a.ssoSecret);
    const loggedIn = await totpLogin(v2only, a);
    expect(loggedIn.status, JSON.stringify(loggedIn.body)).toBe(200);
    expect(loggedIn.body.access_token).toEqual(expect.any(String));

    // B, never re-sealed, cannot: without v1 its TOTP secret does not open.
    const refused = await totpLogin(v2only, b);
    // A configuration problem, named for the operator: the version to put back, not a bare "internal".
    expect(refused.status).toBe(500);
    expect(refused.body.code).toBe("config_invalid");
    expect(refused.body.detail).toContain("ENCRYPTION_KEYS lacks key version 1");

    // Step 2 over every tenant (here: every tenant after the marker), a page at a time.
    const page1 = await reencrypt(rotated, { after: marker.id, limit: 1 });
    expect(page1.body).toEqual({
      current_version: 2,
      tenants: [{ tenant_id: a.id, resealed: 0, raced: 0, error: null }],
      next: a.id,
    });
    const page2 = await reencrypt(rotated, { after: a.id, limit: 1 });
    expect(page2.body.tenants).toEqual([{ tenant_id: b.id, resealed: 4, raced: 0, error: null }]);
    const page3 = await reencrypt(rotated, { after: String(page2.body.next), limit: 1 });
    expect(page3.body).toMatchObject({ tenants: [], next: null });

    // Step 3: the report over those tenants says v1 seals nothing; now B opens without v1 too.
    const report = await rotated(`/api/v1/platform/crypto/versions?after=${marker.id}`, { token: root });
    expect(report.body).toMatchObject({ current_version: 2, configured_versions: [2, 1], next: null });
    expect(report.body.counts).toEqual({
      "identity.sso.client_secret": { "1": 0, "2": 2 },
      "identity.totp": { "1": 0, "2": 2 },
      "webhooks.secret": { "1": 0, "2": 2 },
      "webhooks.secret.delivery_copy": { "1": 0, "2": 2 },
      "mail.dead_letter": { "1": 0, "2": 0 },
    });
    const bLogin = await totpLogin(v2only, b);
    expect(bLogin.status, JSON.stringify(bLogin.body)).toBe(200);
  });

  it("records each tenant's re-sealing for its audit log, as the platform's act; a run that changes nothing records nothing", async () => {
    const t = await sealedTenant(platform(KEYS.v1), "rot-audit");
    const sent: Json[] = [];
    // A queue that keeps what is sent: the events go straight to it from the request.
    const events = {
      send: async (body: unknown) => {
        sent.push(body as Json);
      },
      sendBatch: async (batch: Iterable<MessageSendRequest>) => {
        for (const m of batch) sent.push(m.body as Json);
      },
    };
    const rotated = callerOf(
      testApp(modules, { ENCRYPTION_KEYS: KEYS.rotated, EVENTS: events }, MIGRATIONS, clock).fetch,
    );
    const resealed = () => sent.filter((e) => e.type === "crypto.resealed");

    const run = await reencrypt(rotated, { tenant_id: t.id });
    expect(run.body.tenants).toEqual([{ tenant_id: t.id, resealed: 4, raced: 0, error: null }]);
    await vi.waitFor(() => expect(resealed()).toHaveLength(1));
    const facts = { key_version: 2, resealed: 4, raced: 0 };
    expect(resealed()[0]).toMatchObject({
      tenant_id: t.id,
      actor: { kind: "platform", id: "platform" },
      request_id: run.headers.get("x-request-id"),
      data: facts,
      audit: facts,
    });

    await reencrypt(rotated, { tenant_id: t.id });
    // A marker through the same path, after it: a run that re-seals another tenant's webhook
    // secret. Its event is sent after the response as the second run's would be, so once it is
    // here, a record the second run made has had its chance to arrive.
    const marker = await newTenant(platform(KEYS.v1), "rot-audit-marker");
    const hook = await platform(KEYS.v1)("/api/v1/admin/webhooks", {
      token: marker.adminKey,
      body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    await reencrypt(rotated, { tenant_id: marker.id });
    await vi.waitFor(() => expect(sent.filter((e) => e.tenant_id === marker.id)).toHaveLength(1));
    expect(resealed().filter((e) => e.tenant_id === t.id)).toHaveLength(1);
  });

  it("keeps a value that changed while it was re-sealed, and an older config cannot bring the old sealing back", async () => {
    const t = await sealedTenant(platform(KEYS.v1), "rot-race");
    const before = await ciphertexts(t);
    const stale = (from: string) => ({ from, to: "v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA" });

    // A writer swaps only what it still holds: a `from` it no longer holds is raced, the value kept.
    const totp = before.directory.find((v) => v.kind === "identity.totp");
    const dir = await directory(env, t.id).resealValues({
      reseals: [
        { kind: "identity.totp", key: String(totp?.key), ...stale("v1.an-enrolment-replaced-meanwhile") },
        { kind: "identity.sso.client_secret", key: "sso", ...stale("v1.a-secret-replaced-meanwhile") },
      ],
    });
    expect(dir).toEqual({ resealed: 0, raced: 2 });
    const reg = await registry(env, t.id).resealSecrets({
      reseals: [{ endpoint_id: t.endpoint.id, ...stale("v1.rotated-meanwhile") }],
    });
    expect(reg).toEqual({ resealed: 0, raced: 1 });
    expect(await ciphertexts(t)).toEqual(before);

    // The actor's copy re-sealed, then the registry's config of the same version arriving late
    // (a message routed before the re-encryption): the actor keeps the re-sealed copy.
    const res = await reencrypt(platform(KEYS.rotated), { tenant_id: t.id });
    expect(res.body.tenants).toEqual([{ tenant_id: t.id, resealed: 4, raced: 0, error: null }]);
    const copy = await endpointActor(env, t.id, t.endpoint.id).sealedSecrets({});
    expect(copy[0]).toMatch(/^v2\./);
    const view = await registry(env, t.id).get({ id: t.endpoint.id });
    await endpointActor(env, t.id, t.endpoint.id).configure({
      config: {
        tenant_id: t.id,
        endpoint_id: t.endpoint.id,
        url: "https://hooks.example.com/in",
        secrets: [{ sealed: String(before.endpoint[0]), expires_at: null }],
        enabled: false,
        version: Number(view?.endpoint.version),
      },
    });
    expect(await endpointActor(env, t.id, t.endpoint.id).sealedSecrets({})).toEqual(copy);
  });

  it("an endpoint actor signs with a re-sealed secret when its own keys lack the old version", async () => {
    // The objects' env holds the pool's key alone (version 1), so here that key is the new one
    // and the old one (version 9) exists only in the Worker's config: the actor could never
    // have opened what it sealed. (A version is a label; the first in ENCRYPTION_KEYS seals.)
    const old = { version: 9, key: base64UrlEncode(crypto.getRandomValues(new Uint8Array(32))) };
    const sealedUnderOld = platform(JSON.stringify([old]));
    const t = await newTenant(sealedUnderOld, "rot-deliver");
    const hook = await sealedUnderOld("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "http://127.0.0.1:9/hook", events: ["blog.post.*"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const id = String(hook.body.id);
    expect((await registry(env, t.id).sealedSecrets({}))[0]?.sealed).toMatch(/^v9\./);

    const res = await reencrypt(platform(JSON.stringify([...V1, old])), { tenant_id: t.id });
    expect(res.body).toMatchObject({ current_version: 1, tenants: [{ resealed: 1, raced: 0, error: null }] });

    // The old version gone: a test message is signed and sent by the actor, with the pool's key only.
    const current = platform(KEYS.v1);
    const sent = await current(`/api/v1/admin/webhooks/${id}/test`, { method: "POST", token: t.adminKey });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    const stub = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`);
    let attempts: Json[] = [];
    for (let i = 0; attempts.length === 0; i++) {
      if (i > 200) throw new Error("no delivery attempt in 10 s");
      await runDurableObjectAlarm(stub);
      await new Promise((r) => setTimeout(r, 50));
      const log = await endpointActor(env, t.id, id).deliveries({ limit: 1, cursor: null });
      const delivery = log.items[0];
      if (delivery && delivery.attempts > 0) {
        attempts = (await endpointActor(env, t.id, id).delivery({ id: delivery.id }))?.attempt_log ?? [];
      }
    }
    // Signed (the secret opened) and sent: nothing listens on port 9, so the receiver is unreachable.
    expect(attempts).toEqual([expect.objectContaining({ outcome: "unreachable" })]);
    expect(await endpointActor(env, t.id, id).sealedSecrets({})).toEqual([expect.stringMatching(/^v1\./)]);
  });

  it("walks a directory's sealed values a page at a time: every TOTP user's, past the first page", async () => {
    const sealedUnderV1 = platform(KEYS.v1);
    const t = await sealedTenant(sealedUnderV1, "rot-pages");
    for (const name of ["bea", "cy"]) await totpSecret(sealedUnderV1, t.slug, `${name}-${t.slug}@example.com`);
    // One TOTP secret a page: the SSO secret and the first user on the first, each other user on its own.
    const paged = directorySealed(1);
    const rotated = runtimeWith(KEYS.rotated);
    const under = (version: string, totp: number) => ({
      "identity.sso.client_secret": { [version]: 1 },
      "identity.totp": { [version]: totp },
    });
    expect(await paged.versions(t.id, rotated)).toEqual(under("1", 3));
    expect(await paged.reencrypt(t.id, rotated)).toEqual({ resealed: 4, raced: 0 });
    expect(await paged.versions(t.id, rotated)).toEqual(under("2", 3));
    // The directory's pages: the SSO secret leads the first; a full page's `next` is its last user.
    const dir = directory(env, t.id);
    const first = await dir.sealedValues({ limit: 2 });
    expect(first.values.map((v) => v.kind)).toEqual(["identity.sso.client_secret", "identity.totp", "identity.totp"]);
    expect(first.next).toBe(first.values.at(-1)?.key);
    const rest = await dir.sealedValues({ limit: 2, after: String(first.next) });
    expect({ kinds: rest.values.map((v) => v.kind), next: rest.next }).toEqual({
      kinds: ["identity.totp"],
      next: null,
    });
  });

  it("refuses an unknown tenant, a cursor naming none, and a run without ENCRYPTION_KEYS, as problems", async () => {
    const rotated = platform(KEYS.rotated);
    const unknown = await reencrypt(rotated, { tenant_id: "no-such-tenant" });
    expect({ status: unknown.status, code: unknown.body.code }).toEqual({ status: 404, code: "not_found" });
    // A slug where the id goes (`plinth crypto reencrypt --tenant acme`) is told the id.
    const named = await newTenant(rotated, "rot-slug");
    const bySlug = await reencrypt(rotated, { tenant_id: named.slug });
    expect({ status: bySlug.status, detail: bySlug.body.detail }).toEqual({
      status: 404,
      detail: `no tenant has id "${named.slug}": that is the slug of tenant ${named.id}; tenant_id takes the id`,
    });
    // A cursor naming no tenant (mistyped, or another command's) is refused: it walked on from
    // wherever it sorted, "done: 0 tenant(s)" for one past every id, exit 0, nothing re-sealed.
    const cursor = await reencrypt(rotated, { after: "no-such-tenant" });
    expect({ status: cursor.status, code: cursor.body.code, errors: cursor.body.errors }).toEqual({
      status: 400,
      code: "validation_failed",
      errors: [{ path: "body.after", message: expect.stringContaining("no tenant no-such-tenant") }],
    });
    const versions = await rotated("/api/v1/platform/crypto/versions?after=no-such-tenant", { token: root });
    expect({ status: versions.status, errors: versions.body.errors }).toEqual({
      status: 400,
      errors: [{ path: "query.after", message: expect.stringContaining("no tenant no-such-tenant") }],
    });
    // But an erased tenant's id (its row removed, its tombstone kept) is a cursor a run may hold:
    // the erasure can finish between two pages, and the run goes on past it.
    // Sorted past every tenant's id (ULIDs begin 0–7), so the page re-seals no other file's tenant.
    const erased = `ZZERASED${crypto.randomUUID().replaceAll("-", "").slice(0, 18).toUpperCase()}`;
    const tombstone = env.DB.prepare("insert into erased_tenants (id, erased_at) values (?, ?)");
    await tombstone.bind(erased, "2026-12-01T00:00:00.000Z").run();
    try {
      const past = await reencrypt(rotated, { after: erased, limit: 1 });
      expect(past.status, JSON.stringify(past.body)).toBe(200);
      const counted = await rotated(`/api/v1/platform/crypto/versions?after=${erased}&limit=1`, { token: root });
      expect(counted.status, JSON.stringify(counted.body)).toBe(200);
    } finally {
      await env.DB.prepare("delete from erased_tenants where id = ?").bind(erased).run();
    }
    const none = await reencrypt(platform(undefined), {});
    expect({ status: none.status, code: none.body.code }).toEqual({ status: 503, code: "unavailable" });
    expect(JSON.stringify(none.body)).not.toContain(v2.key);
    // The platform's operation: a tenant's admin key is not the root key.
    const tenant = await newTenant(rotated, "rot-admin");
    const denied = await rotated("/api/v1/platform/crypto/versions", { token: tenant.adminKey });
    expect(denied.status).toBe(403);
  });
});
