// Single sign-on end to end: plinth served by Miniflare signs users in through
// a real OpenID provider (oidc-provider) on 127.0.0.1. The test is the browser:
// plinth /auth/sso/start -> the provider's authorize -> login and consent ->
// plinth /auth/sso/callback -> tokens -> /api/v1/me. The tenant travels as the
// subdomain (<slug>.localhost), as it would in a browser.
import { randomBytes } from "node:crypto";
import http from "node:http";
import path from "node:path";
import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Json, servedApi, until } from "./proxy/served-api";
import { type ServedWorker, serveWorker } from "./proxy/worker";
import { type FakeProvider, startFakeProvider, type Tamper } from "./support/fake-oidc";
import { browser, startProvider, type TestProvider } from "./support/oidc";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLIENT = { client_id: "plinth-e2e", client_secret: randomBytes(24).toString("base64url") };
const SLUGS = [
  "sso-open",
  "sso-invite",
  "sso-jit",
  "sso-app",
  "sso-owner",
  "sso-link",
  "sso-admin2fa",
  "sso-2fa",
  "sso-idn",
  "sso-nfd",
].map((s) => `${s}-${randomBytes(3).toString("hex")}`);

let worker: ServedWorker | undefined;
let idp: TestProvider | undefined;
let fake: FakeProvider | undefined;
const api = servedApi(() => worker);
const served = () => {
  if (!worker) throw new Error("no worker");
  return worker;
};
const provider = () => {
  if (!idp) throw new Error("no provider");
  return idp;
};
/** The tenant's own origin: `<slug>.localhost:<port>`. */
const originOf = (slug: string) => served().origin.replace("127.0.0.1", `${slug}.localhost`);

beforeAll(async () => {
  worker = await serveWorker(ROOT, {
    vars: {
      ENCRYPTION_KEYS: JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]),
      // One issuer for every origin (as PLATFORM_DOMAIN gives in production): tokens issued on the
      // tenant's subdomain are then good on 127.0.0.1 too, where the test's API calls go.
      JWT_ISSUER: "http://plinth.test",
    },
  });
  idp = await startProvider({
    ...CLIENT,
    redirect_uris: SLUGS.map((slug) => `${originOf(slug)}/api/v1/auth/sso/callback`),
  });
  fake = await startFakeProvider({ client_id: CLIENT.client_id });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await idp?.stop();
  await fake?.stop();
});

async function newTenant(slug: string): Promise<{ id: string; slug: string; key: string }> {
  const res = await api("POST", "/api/v1/platform/tenants", { key: served().rootKey, body: { slug, name: slug } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: String(res.body.id), slug, key: String(res.body.admin_key) };
}

/**
 * Waits until the audit entries of what the tenant's directory wrote before this call have had
 * their chance to arrive: a marker registration, written after them through the same outbox
 * (which sends in order), is in the log. Before asserting that an entry is there only once.
 */
async function auditSettled(t: { slug: string; key: string }): Promise<void> {
  const marker = await api("POST", "/api/v1/auth/register", {
    headers: { "x-tenant": t.slug },
    body: { email: `marker-${Date.now().toString(36)}@example.com`, password: "a long enough password", name: "M" },
  });
  expect(marker.status, JSON.stringify(marker.body)).toBe(201);
  await until("the marker in the audit log", async () => {
    const res = await api("GET", "/api/v1/admin/audit?action=identity.user.registered&limit=100", { key: t.key });
    const items = (res.body.items as Json[] | undefined) ?? [];
    return items.some((e) => String(e.target).endsWith(`/user/${marker.body.id}`)) ? true : undefined;
  });
}

function ssoConfig(extra: Json = {}): Json {
  return {
    issuer: provider().issuer,
    client_id: CLIENT.client_id,
    client_secret: CLIENT.client_secret,
    allowed_domains: ["example.com"],
    role_mapping: [{ claim: "groups", value: "readers", role: "viewer" }],
    default_role: "member",
    ...extra,
  };
}

async function configure(t: { slug: string; key: string }, extra: Json = {}) {
  const res = await api("PUT", "/api/v1/admin/sso", { key: t.key, body: ssoConfig(extra) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res;
}

/** Runs the browser from plinth's start to the provider's redirect back to plinth's callback (not yet followed). */
async function toCallback(slug: string, query = ""): Promise<{ callback: string; b: ReturnType<typeof browser> }> {
  const b = browser();
  const callbackPrefix = `${originOf(slug)}/api/v1/auth/sso/callback`;
  const started = await b.get(`${originOf(slug)}/api/v1/auth/sso/start${query}`);
  expect(started.status, started.body).toBe(302);
  const hop = await b.follow(started.location ?? "", (next) => next.startsWith(callbackPrefix));
  expect(hop.location, `${hop.status} ${hop.body.slice(0, 300)}`).toMatch(
    /^http:\/\/.*\/api\/v1\/auth\/sso\/callback\?/,
  );
  return { callback: hop.location ?? "", b };
}

const json = (body: string): Json => JSON.parse(body) as Json;

/** Enrols the signed-in user (access `token`) in plinth's two-factor with an authenticator app; their recovery codes. */
async function enrolTwoFactor(token: string): Promise<string[]> {
  const started = await api("POST", "/api/v1/me/two-factor", { key: token });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const totp = new TOTP({
    algorithm: "SHA1",
    digits: 6,
    period: 30,
    secret: Secret.fromBase32(String(started.body.secret)),
  });
  const confirmed = await api("POST", "/api/v1/me/two-factor/confirm", { key: token, body: { code: totp.generate() } });
  expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
  return confirmed.body.recovery_codes as string[];
}

/** A POST on the tenant's own origin, as its app makes it (the callback URL comes from the request's origin). */
function postOnTenant(slug: string, path: string, token: string, body: Json): Promise<{ status: number; body: Json }> {
  const url = new URL(`${originOf(slug)}${path}`);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: {
          host: url.host,
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? json(text) : {} }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe("single sign-on through a real OpenID provider", () => {
  it("signs a new user in, provisioned just in time with the mapped role, and the tokens work", async () => {
    const t = await newTenant(SLUGS[0] ?? "");
    const configured = await configure(t);
    expect(configured.body).not.toHaveProperty("client_secret");
    const shown = await api("GET", "/api/v1/admin/sso", { key: t.key });
    expect(shown.status).toBe(200);
    expect(JSON.stringify(shown.body)).not.toContain(CLIENT.client_secret);
    expect(shown.body.client_secret_set).toBe(true);

    provider().loginAs("alice-1", {
      email: "Alice@Example.com",
      email_verified: true,
      name: "Alice",
      groups: ["readers"],
    });
    const { callback, b } = await toCallback(t.slug);
    const start = new URL(callback);
    expect(start.searchParams.get("state")).toBeTruthy();
    const done = await b.get(callback);
    expect(done.status, done.body).toBe(200);
    // The body is a token pair: no cache, the browser's or a proxy's, may keep it.
    expect(done.headers["cache-control"]).toBe("no-store");
    const pair = json(done.body);
    expect(pair.token_type).toBe("Bearer");
    expect(String(pair.refresh_token)).toMatch(/^plr_/);

    const me = await api("GET", "/api/v1/me", { key: String(pair.access_token) });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    const user = me.body.user as Json;
    expect(user.email).toBe("alice@example.com");
    expect(user.email_verified).toBe(true);
    expect(user.roles).toEqual(["viewer"]);

    // The refresh token is plinth's own, rotating as after a password login.
    const refreshed = await api("POST", "/api/v1/auth/refresh", {
      headers: { "x-tenant": t.slug },
      body: { refresh_token: pair.refresh_token },
    });
    expect(refreshed.status).toBe(200);

    // A second sign-in finds the same user; the provider's session is reused.
    provider().loginAs("alice-1", { email: "alice@example.com", email_verified: true, groups: [] });
    const again = await toCallback(t.slug);
    const second = await again.b.get(again.callback);
    expect(second.status, second.body).toBe(200);
    const me2 = await api("GET", "/api/v1/me", { key: String(json(second.body).access_token) });
    expect((me2.body.user as Json).id).toBe(user.id);

    // The audit log has the configuration, the provisioning and both sign-ins (two, not one more a
    // batch late: read after a marker); none carries a secret.
    await auditSettled(t);
    const audit = (await api("GET", "/api/v1/admin/audit?limit=100", { key: t.key })).body.items as Json[];
    const actions = audit.map((e) => e.action);
    expect(actions.filter((a) => a === "identity.sso.login")).toHaveLength(2);
    expect(actions).toContain("identity.sso.configured");
    expect(actions).toContain("identity.user.provisioned");
    const text = JSON.stringify(audit);
    expect(text).not.toContain(CLIENT.client_secret);
    expect(text).not.toContain(String(pair.refresh_token));
  });

  it("takes the provider's name only when it is a name people can read: else the email (no line break, no bidi override)", async () => {
    // The name claim is the user's own at the provider; the API refuses these names (DisplayName).
    const slug = SLUGS[0] ?? "";
    for (const [sub, name] of [
      ["eve-1", "Eve\u202Enimda"],
      ["eve-2", "Eve\r\nRole: owner"],
    ] as const) {
      const email = `${sub}@example.com`;
      provider().loginAs(sub, { email, email_verified: true, name });
      const { callback, b } = await toCallback(slug);
      const done = await b.get(callback);
      expect(done.status, done.body).toBe(200);
      const me = await api("GET", "/api/v1/me", { key: String(json(done.body).access_token) });
      expect((me.body.user as Json).name).toBe(email);
    }
    provider().loginAs("zoe-1", { email: "zoe-1@example.com", email_verified: true, name: "  Zoë Doe " });
    const { callback, b } = await toCallback(slug);
    const done = await b.get(callback);
    const me = await api("GET", "/api/v1/me", { key: String(json(done.body).access_token) });
    expect((me.body.user as Json).name).toBe("Zoë Doe");
  });

  it("refuses a replayed state, an unknown state and a missing one", async () => {
    const t = await newTenant(`${SLUGS[0]}-r`.slice(0, 60));
    await configure(t);
    provider().loginAs("bob-1", { email: "bob@example.com", email_verified: true });
    // This tenant's callback is not registered at the provider: only the refusals before the exchange are tested here.
    const b = browser();
    const started = await b.get(`${originOf(t.slug)}/api/v1/auth/sso/start`);
    expect(started.status).toBe(302);
    const unknown = await b.get(`${originOf(t.slug)}/api/v1/auth/sso/callback?code=x&state=forged-state`);
    expect(unknown.status).toBe(400);
    expect(json(unknown.body).code).toBe("sso_state_invalid");
    const missing = await b.get(`${originOf(t.slug)}/api/v1/auth/sso/callback?code=x`);
    expect(json(missing.body).code).toBe("sso_state_invalid");
  });

  it("spends a state once: the same callback replayed is refused", async () => {
    const slug = SLUGS[0] ?? "";
    provider().loginAs("carol-1", { email: "carol@example.com", email_verified: true });
    const { callback, b } = await toCallback(slug);
    const first = await b.get(callback);
    expect(first.status, first.body).toBe(200);
    // The sign-in is over: its browser binding is cleared with the answer.
    expect(first.headers["set-cookie"]?.[0]).toMatch(/^__Host-plinth-sso=; Max-Age=0; /);
    const replay = await b.get(callback);
    expect(replay.status).toBe(400);
    expect(json(replay.body).code).toBe("sso_state_invalid");
    expect(replay.body).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it("a callback the provider refuses spends nothing: the real one, with the same state, still signs in", async () => {
    // The state is spent only once the provider accepted its code, so someone holding a user's state
    // (or many states from anonymous starts) cannot spend it, or fill the directory, with made-up codes.
    const slug = SLUGS[0] ?? "";
    provider().loginAs("carol-1", { email: "carol@example.com", email_verified: true });
    const { callback, b } = await toCallback(slug);
    const forged = new URL(callback);
    forged.searchParams.set("code", "not-a-code-the-provider-issued");
    const refused = await b.get(forged.href);
    expect(refused.status, refused.body).toBe(400);
    expect(json(refused.body).code).toBe("sso_provider_error");
    // Nor does it clear the browser's binding: the real callback still comes from this browser.
    expect(refused.headers["set-cookie"]).toBeUndefined();
    const real = await b.get(callback);
    expect(real.status, real.body).toBe(200);
  });

  it("links each provider identity (sub) to one account: a second identity with that email is refused, a changed email still reaches it", async () => {
    const slug = SLUGS[0] ?? "";
    const signIn = async (sub: string, email: string) => {
      provider().loginAs(sub, { email, email_verified: true });
      const hop = await toCallback(slug);
      return hop.b.get(hop.callback);
    };
    const userOf = async (res: { body: string }) => {
      const me = await api("GET", "/api/v1/me", { key: String(json(res.body).access_token) });
      expect(me.status, JSON.stringify(me.body)).toBe(200);
      return me.body.user as Json;
    };

    const first = await signIn("carol-1", "carol@example.com");
    expect(first.status, first.body).toBe(200);
    const carol = await userOf(first);

    const impostor = await signIn("carol-2", "carol@example.com");
    expect(impostor.status, impostor.body).toBe(403);
    expect(json(impostor.body).code).toBe("sso_identity_conflict");

    const renamed = await signIn("carol-1", "carol.renamed@example.com");
    expect(renamed.status, renamed.body).toBe(200);
    const again = await userOf(renamed);
    expect(again.id).toBe(carol.id);
    expect(again.email).toBe("carol@example.com");

    // A password account of the same email is linked on its first sign-in through the provider.
    const registered = await api("POST", "/api/v1/auth/register", {
      headers: { "x-tenant": slug },
      body: { email: "dan@example.com", password: "a long enough password", name: "Dan" },
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const dan = await signIn("dan-1", "dan@example.com");
    expect(dan.status, dan.body).toBe(200);
    expect((await userOf(dan)).id).toBe(registered.body.id);
  });

  it("an email at an internationalised domain is its punycode form: the listed domain, the password account", async () => {
    // Admins list a domain as DomainSchema takes it (punycode); a provider may assert its Unicode form.
    const t = await newTenant(SLUGS[8] ?? "");
    await configure(t, { allowed_domains: ["xn--bcher-kva.example"] });
    const registered = await api("POST", "/api/v1/auth/register", {
      headers: { "x-tenant": t.slug },
      body: { email: "ada@xn--bcher-kva.example", password: "a long enough password", name: "Ada" },
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    provider().loginAs("ada-idn", { email: "Ada@Bücher.example", email_verified: true });
    const hop = await toCallback(t.slug);
    const done = await hop.b.get(hop.callback);
    expect(done.status, done.body).toBe(200);
    const me = await api("GET", "/api/v1/me", { key: String(json(done.body).access_token) });
    // The same person's one account, linked by its email: not a second one, not refused.
    expect((me.body.user as Json).id).toBe(registered.body.id);
    expect((me.body.user as Json).email).toBe("ada@xn--bcher-kva.example");
    // And the address typed in its Unicode form at a login is that account's, not a 400.
    const login = await api("POST", "/api/v1/auth/login", {
      headers: { "x-tenant": t.slug },
      body: { email: "ada@bücher.example", password: "a long enough password" },
    });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
  });

  it("an email is one account however its letters are composed (NFC or NFD)", async () => {
    const t = await newTenant(SLUGS[9] ?? "");
    await configure(t);
    const signIn = async (sub: string, email: string) => {
      provider().loginAs(sub, { email, email_verified: true });
      const hop = await toCallback(t.slug);
      return hop.b.get(hop.callback);
    };
    const first = await signIn("zoe-nfc", "zo\u00eb@example.com");
    expect(first.status, first.body).toBe(200);
    // Another identity asserting the same address, decomposed: the account of that email, which
    // another identity holds (as a second identity of any one email is), not a second account.
    const second = await signIn("zoe-nfd", "zoe\u0308@example.com");
    expect(second.status, second.body).toBe(403);
    expect(json(second.body).code).toBe("sso_identity_conflict");
  });

  it("refuses an email outside allowed_domains, and an unverified email", async () => {
    const slug = SLUGS[0] ?? "";
    provider().loginAs("mallory-1", { email: "mallory@evil.test", email_verified: true });
    const other = await toCallback(slug);
    const refused = await other.b.get(other.callback);
    expect(refused.status).toBe(403);
    expect(json(refused.body).code).toBe("sso_domain_not_allowed");

    provider().loginAs("dave-1", { email: "dave@example.com", email_verified: false });
    const unverified = await toCallback(slug);
    const res = await unverified.b.get(unverified.callback);
    expect(res.status).toBe(403);
    expect(json(res.body).code).toBe("sso_email_unverified");
  });

  it("invite_only: an unknown email is refused, an existing user signs in; with jit the provider provisions", async () => {
    const t = await newTenant(SLUGS[1] ?? "");
    // Register before closing signup: an existing account.
    const reg = await api("POST", "/api/v1/auth/register", {
      headers: { "x-tenant": t.slug },
      body: { email: "erin@example.com", password: "correct horse battery staple", name: "Erin" },
    });
    expect(reg.status).toBe(201);
    const closed = await api("PATCH", "/api/v1/admin/settings", {
      key: t.key,
      body: { signup: { mode: "invite_only", domains: [] } },
    });
    expect(closed.status).toBe(200);
    await configure(t);

    provider().loginAs("frank-1", { email: "frank@example.com", email_verified: true });
    const unknown = await toCallback(t.slug);
    const refused = await unknown.b.get(unknown.callback);
    expect(refused.status).toBe(403);
    expect(json(refused.body).code).toBe("signup_closed");

    provider().loginAs("erin-1", { email: "erin@example.com", email_verified: true, groups: ["readers"] });
    const known = await toCallback(t.slug);
    const ok = await known.b.get(known.callback);
    expect(ok.status, ok.body).toBe(200);
    const me = await api("GET", "/api/v1/me", { key: String(json(ok.body).access_token) });
    // An existing user keeps their roles: the mapping applies when provisioning.
    expect((me.body.user as Json).roles).toEqual(["member"]);

    await configure(t, { jit: true });
    provider().loginAs("frank-1", { email: "frank@example.com", email_verified: true });
    const jit = await toCallback(t.slug);
    const provisioned = await jit.b.get(jit.callback);
    expect(provisioned.status, provisioned.body).toBe(200);
  });

  it("sends the browser to an allowed app URL with the tokens in the fragment, and refuses other URLs", async () => {
    const t = await newTenant(SLUGS[3] ?? "");
    const app = "http://127.0.0.1:9/app/signed-in";
    await configure(t, { app_redirect_uris: [app] });
    const b = browser();
    const bad = await b.get(
      `${originOf(t.slug)}/api/v1/auth/sso/start?redirect_uri=${encodeURIComponent("https://evil.test/")}`,
    );
    expect(bad.status).toBe(400);

    provider().loginAs("gina-1", { email: "gina@example.com", email_verified: true });
    const { callback, b: b2 } = await toCallback(t.slug, `?redirect_uri=${encodeURIComponent(app)}`);
    const done = await b2.get(callback);
    expect(done.status, done.body).toBe(302);
    // The tokens are in the Location: the redirect is not to be cached either.
    expect(done.headers["cache-control"]).toBe("no-store");
    const location = new URL(done.location ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(app);
    const fragment = new URLSearchParams(location.hash.slice(1));
    const me = await api("GET", "/api/v1/me", { key: fragment.get("access_token") ?? "" });
    expect(me.status).toBe(200);
  });
});

describe("an admin cannot take over an owner's account through single sign-on", () => {
  it("only an owner sets the provider: an admin's provider would assert the owner's email and reach the owner's account", async () => {
    const t = await newTenant(SLUGS[4] ?? "");
    const headers = { "x-tenant": t.slug };
    const password = "a long enough password";
    const account = async (email: string, role: string) => {
      const reg = await api("POST", "/api/v1/auth/register", { headers, body: { email, password, name: email } });
      expect(reg.status, JSON.stringify(reg.body)).toBe(201);
      const id = String(reg.body.id);
      const granted = await api("PUT", `/api/v1/admin/users/${id}/roles/${role}`, { key: t.key });
      expect(granted.status, JSON.stringify(granted.body)).toBe(204);
      return id;
    };
    const ownerId = await account("olga@example.com", "owner");
    await account("adam@example.com", "admin");
    const login = await api("POST", "/api/v1/auth/login", {
      headers,
      body: { email: "adam@example.com", password },
    });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const adminToken = String(login.body.access_token);

    // The provider is the admin's: it asserts whatever email they like, verified.
    const put = await api("PUT", "/api/v1/admin/sso", { key: adminToken, body: ssoConfig() });
    provider().loginAs("adam-as-olga", { email: "olga@example.com", email_verified: true });
    const started = await browser().get(`${originOf(t.slug)}/api/v1/auth/sso/start`);
    let signedInAs: unknown = null;
    if (started.status === 302) {
      const { callback, b } = await toCallback(t.slug);
      const done = await b.get(callback);
      if (done.status === 200) {
        const me = await api("GET", "/api/v1/me", { key: String(json(done.body).access_token) });
        signedInAs = (me.body.user as Json | undefined)?.id;
      }
    }
    expect(signedInAs === ownerId ? "the admin signed in as the owner" : null).toBeNull();
    expect(put.status, JSON.stringify(put.body)).toBe(403);
    expect(put.body.code).toBe("forbidden");
    expect(started.status).toBe(404);

    // Once the owner set the provider, the admin keeps what does not decide who signs in as whom.
    await configure(t);
    const keep = await api("PUT", "/api/v1/admin/sso", {
      key: adminToken,
      body: { ...ssoConfig({ jit: true, default_role: "viewer" }), client_secret: undefined },
    });
    expect(keep.status, JSON.stringify(keep.body)).toBe(200);
  });
});

describe("an owner's account is never linked by email alone", () => {
  it("a provider asserting an owner's email gets 409 sso_link_required, naming no role; the owner links it signed in (no tokens)", async () => {
    const t = await newTenant(SLUGS[5] ?? "");
    const headers = { "x-tenant": t.slug };
    const password = "a long enough password";
    const reg = await api("POST", "/api/v1/auth/register", {
      headers,
      body: { email: "olivia@example.com", password, name: "Olivia" },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const ownerId = String(reg.body.id);
    expect((await api("PUT", `/api/v1/admin/users/${ownerId}/roles/owner`, { key: t.key })).status).toBe(204);
    await configure(t);

    provider().loginAs("olivia-at-idp", { email: "olivia@example.com", email_verified: true });
    const { callback, b } = await toCallback(t.slug);
    const refused = await b.get(callback);
    expect(refused.status, refused.body).toBe(409);
    const problem = json(refused.body);
    expect(problem.code).toBe("sso_link_required");
    expect(refused.body).not.toMatch(/owner|two-factor/i);
    expect(refused.body).not.toContain(ownerId);

    // The owner links it themselves, signed in with their password (and their code, had they two-factor on).
    const login = await api("POST", "/api/v1/auth/login", { headers, body: { email: "olivia@example.com", password } });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const ownerToken = String(login.body.access_token);
    const link = (token: string, body: Json) => postOnTenant(t.slug, "/api/v1/me/sso/link", token, body);
    const wrong = await link(ownerToken, { password: "not the password" });
    expect(wrong.status, JSON.stringify(wrong.body)).toBe(403);
    expect(wrong.body.code).toBe("wrong_password");
    const byKey = await link(t.key, { password });
    expect(byKey.status, JSON.stringify(byKey.body)).toBe(403);

    const begun = await link(ownerToken, { password });
    expect(begun.status, JSON.stringify(begun.body)).toBe(200);
    provider().loginAs("olivia-at-idp", { email: "olivia@example.com", email_verified: true });
    const linking = browser();
    const back = await linking.follow(String(begun.body.authorization_url), (next) =>
      next.startsWith(`${originOf(t.slug)}/api/v1/auth/sso/callback`),
    );
    const linked = await linking.get(back.location ?? "");
    expect(linked.status, linked.body).toBe(200);
    // The owner is signed in already, in the app that began the link: its callback links and hands out
    // no session (its state is bound to no browser: test/node/sso-browser.test.ts shows why).
    expect(json(linked.body)).toEqual({ linked: true, issuer: provider().issuer });

    // From now on that identity signs the owner in like any linked one.
    provider().loginAs("olivia-at-idp", { email: "olivia@example.com", email_verified: true });
    const again = await toCallback(t.slug);
    const signedIn = await again.b.get(again.callback);
    expect(signedIn.status, signedIn.body).toBe(200);
    const me2 = await api("GET", "/api/v1/me", { key: String(json(signedIn.body).access_token) });
    expect((me2.body.user as Json).id).toBe(ownerId);
    // One link entry, not one more a batch late: read after a marker.
    await auditSettled(t);
    const audit = await until("the link in the audit log", async () => {
      const res = await api("GET", "/api/v1/admin/audit?action=identity.sso.linked", { key: t.key });
      const items = (res.body.items as Json[] | undefined) ?? [];
      return items.length > 0 ? items : undefined;
    });
    expect(audit.map((e) => e.target)).toEqual([`${t.id}/user/${ownerId}`]);
  });

  it("a link begun before its user turned two-factor on: the callback asks the code the request never gave", async () => {
    // Same tenant as above (its callback is registered at the provider); Lane is a member.
    const slug = SLUGS[5] ?? "";
    const headers = { "x-tenant": slug };
    const password = "a long enough password";
    const reg = await api("POST", "/api/v1/auth/register", {
      headers,
      body: { email: "lane@example.com", password, name: "Lane" },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const login = await api("POST", "/api/v1/auth/login", { headers, body: { email: "lane@example.com", password } });
    const token = String(login.body.access_token);
    // No two-factor yet: the password is all the request can prove.
    const begun = await postOnTenant(slug, "/api/v1/me/sso/link", token, { password });
    expect(begun.status, JSON.stringify(begun.body)).toBe(200);

    const [recovery] = await enrolTwoFactor(token);

    provider().loginAs("lane-at-idp", { email: "lane@example.com", email_verified: true });
    const linking = browser();
    const back = await linking.follow(String(begun.body.authorization_url), (next) =>
      next.startsWith(`${originOf(slug)}/api/v1/auth/sso/callback`),
    );
    const answered = await linking.get(back.location ?? "");
    expect(answered.status, answered.body).toBe(200);
    const challenge = json(answered.body);
    expect(challenge).toMatchObject({ two_factor_required: true, expires_in: 300 });
    expect(challenge).not.toHaveProperty("access_token");
    const done = await api("POST", "/api/v1/auth/two-factor", {
      headers,
      body: { challenge: challenge.challenge, recovery_code: recovery },
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const me = await api("GET", "/api/v1/me", { key: String(done.body.access_token) });
    expect((me.body.user as Json).id).toBe(reg.body.id);

    // Completing the challenge linked the identity: its next sign-in reaches Lane's account (with the
    // second step), where an identity never linked to an account with two-factor on is sso_link_required.
    const again = await toCallback(slug);
    const next = await again.b.get(again.callback);
    expect(next.status, next.body).toBe(200);
    expect(json(next.body)).toMatchObject({ two_factor_required: true });
  });
});

describe("an administrator's account under require_two_factor_for_admins", () => {
  it("is not linked by email while the setting is on; once linked, its user unlinks it and it reaches the account no more", async () => {
    const t = await newTenant(SLUGS[6] ?? "");
    const headers = { "x-tenant": t.slug };
    const password = "a long enough password";
    const reg = await api("POST", "/api/v1/auth/register", {
      headers,
      body: { email: "adam@example.com", password, name: "Adam" },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const adminId = String(reg.body.id);
    expect((await api("PUT", `/api/v1/admin/users/${adminId}/roles/admin`, { key: t.key })).status).toBe(204);
    const requireTwoFactor = async (on: boolean) => {
      const res = await api("PATCH", "/api/v1/admin/settings", {
        key: t.key,
        body: { require_two_factor_for_admins: on },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    };
    await requireTwoFactor(true);
    await configure(t);
    const signIn = async () => {
      provider().loginAs("adam-at-idp", { email: "adam@example.com", email_verified: true });
      const { callback, b } = await toCallback(t.slug);
      return b.get(callback);
    };

    // The Worker tells the directory which permissions the setting covers: the admin role's are among them.
    const refused = await signIn();
    expect(refused.status, refused.body).toBe(409);
    expect(json(refused.body).code).toBe("sso_link_required");

    await requireTwoFactor(false);
    const linked = await signIn();
    expect(linked.status, linked.body).toBe(200);
    const token = String(json(linked.body).access_token);
    const me = await api("GET", "/api/v1/me", { key: token });
    expect((me.body.user as Json).id).toBe(adminId);

    const unlinked = await api("DELETE", "/api/v1/me/sso", { key: token, body: { password } });
    expect(unlinked.status, JSON.stringify(unlinked.body)).toBe(204);
    // A first sign-in again: with the setting back on, refused as before.
    await requireTwoFactor(true);
    const again = await signIn();
    expect(again.status, again.body).toBe(409);
  });
});

describe("plinth's second factor on a sign-in through the provider", () => {
  it("an admin linked before require_two_factor_for_admins: refused until enrolled, then the challenge, in JSON or the app's fragment", async () => {
    const t = await newTenant(SLUGS[7] ?? "");
    const headers = { "x-tenant": t.slug };
    const reg = await api("POST", "/api/v1/auth/register", {
      headers,
      body: { email: "erin@example.com", password: "a long enough password", name: "Erin" },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const adminId = String(reg.body.id);
    expect((await api("PUT", `/api/v1/admin/users/${adminId}/roles/admin`, { key: t.key })).status).toBe(204);
    const app = "http://127.0.0.1:9/app/signed-in";
    await configure(t, { app_redirect_uris: [app] });
    const signIn = async (query = "") => {
      provider().loginAs("erin-at-idp", { email: "erin@example.com", email_verified: true });
      const { callback, b } = await toCallback(t.slug, query);
      return b.get(callback);
    };
    // Linked by email while the setting is off.
    const linked = await signIn();
    expect(linked.status, linked.body).toBe(200);
    const token = String(json(linked.body).access_token);

    const setting = await api("PATCH", "/api/v1/admin/settings", {
      key: t.key,
      body: { require_two_factor_for_admins: true },
    });
    expect(setting.status, JSON.stringify(setting.body)).toBe(200);
    const refused = await signIn();
    expect(refused.status, refused.body).toBe(403);
    expect(json(refused.body).code).toBe("two_factor_required");

    // Enrolled from the session they still hold, the sign-in asks the code as password login does.
    const [first, second] = await enrolTwoFactor(token);

    const challenged = await signIn();
    expect(challenged.status, challenged.body).toBe(200);
    expect(challenged.headers["cache-control"]).toBe("no-store");
    const challenge = json(challenged.body);
    expect(challenge).toMatchObject({ two_factor_required: true, expires_in: 300 });
    expect(challenge).not.toHaveProperty("access_token");
    const done = await api("POST", "/api/v1/auth/two-factor", {
      headers,
      body: { challenge: challenge.challenge, recovery_code: first },
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const me = await api("GET", "/api/v1/me", { key: String(done.body.access_token) });
    expect((me.body.user as Json).id).toBe(adminId);

    // With an app redirect, the challenge travels in the fragment as the tokens would.
    const redirected = await signIn(`?redirect_uri=${encodeURIComponent(app)}`);
    expect(redirected.status, redirected.body).toBe(302);
    const fragment = new URLSearchParams(new URL(redirected.location ?? "").hash.slice(1));
    expect(fragment.get("two_factor_required")).toBe("true");
    expect(fragment.get("access_token")).toBeNull();
    const viaApp = await api("POST", "/api/v1/auth/two-factor", {
      headers,
      body: { challenge: fragment.get("challenge"), recovery_code: second },
    });
    expect(viaApp.status, JSON.stringify(viaApp.body)).toBe(200);
  });
});

describe("ID tokens that must not sign anyone in (a provider that spoils them on purpose)", () => {
  const spoiled: [Tamper, string][] = [
    ["nonce", "nonce"],
    ["iss", "issuer"],
    ["aud", "audience"],
    ["exp", "expired"],
    ["sig", "signature"],
  ];

  it.each(spoiled)("refuses an ID token with a wrong %s (400 sso_id_token_invalid)", async (mode, words) => {
    if (!fake) throw new Error("no fake provider");
    const t = await newTenant(`sso-fake-${mode}-${randomBytes(3).toString("hex")}`);
    await configure(t, { issuer: fake.issuer });
    fake.tamper(mode);
    const b = browser();
    const started = await b.get(`${originOf(t.slug)}/api/v1/auth/sso/start`);
    expect(started.status, started.body).toBe(302);
    const back = await b.get(started.location ?? "");
    const res = await b.get(back.location ?? "");
    expect(res.status, res.body).toBe(400);
    const problem = json(res.body);
    expect(problem.code).toBe("sso_id_token_invalid");
    expect(String(problem.detail)).toContain(words);
    expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  // Valid tokens with claims longer than the directory's contract takes: the object refused the
  // sign-in, and the person got 500 internal instead of a refusal naming the claim.
  it.each([
    ["long_email", "email"],
    ["long_sub", "sub"],
  ] as [Tamper, string][])(
    "refuses an ID token whose %s is too long to keep (400 sso_id_token_invalid)",
    async (mode, claim) => {
      if (!fake) throw new Error("no fake provider");
      const t = await newTenant(`sso-fake-${mode.replace("_", "-")}-${randomBytes(3).toString("hex")}`);
      await configure(t, { issuer: fake.issuer });
      fake.tamper(mode);
      const b = browser();
      const started = await b.get(`${originOf(t.slug)}/api/v1/auth/sso/start`);
      const back = await b.get(started.location ?? "");
      const res = await b.get(back.location ?? "");
      expect(res.status, res.body).toBe(400);
      const problem = json(res.body);
      expect(problem.code).toBe("sso_id_token_invalid");
      expect(String(problem.detail)).toContain(claim);
    },
  );

  it("the same provider, unspoiled, signs in (the refusals above are the tampering, not the setup)", async () => {
    if (!fake) throw new Error("no fake provider");
    const t = await newTenant(`sso-fake-ok-${randomBytes(3).toString("hex")}`);
    await configure(t, { issuer: fake.issuer });
    fake.tamper("none");
    const b = browser();
    const started = await b.get(`${originOf(t.slug)}/api/v1/auth/sso/start`);
    const back = await b.get(started.location ?? "");
    const res = await b.get(back.location ?? "");
    expect(res.status, res.body).toBe(200);
  });

  it("refuses a provider whose discovery document names another issuer", async () => {
    if (!fake) throw new Error("no fake provider");
    const t = await newTenant(`sso-fake-disc-${randomBytes(3).toString("hex")}`);
    await configure(t, { issuer: `${fake.issuer}/elsewhere` });
    const started = await browser().get(`${originOf(t.slug)}/api/v1/auth/sso/start`);
    expect(started.status).toBe(400);
    expect(json(started.body).code).toBe("sso_provider_error");
  });
});
