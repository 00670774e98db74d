import { type FakeProvider, startFakeProvider } from "../support/fake-oidc";
import type { Call, Sweep } from "./sweep";

type Base = Omit<Call, "op" | "label" | "expect">;

const CLIENT = { client_id: "plinth-sweep", client_secret: "sweep-client-secret-0123456789" };

let provider: FakeProvider | undefined;

/** A provider configuration the document calls valid (its issuer never asked: error requests are refused first). */
export const SSO_SAMPLE = {
  issuer: "https://idp.example.com",
  ...CLIENT,
  allowed_domains: ["example.com"],
  role_mapping: [],
  default_role: "member",
};

/**
 * Every SSO operation once with a valid request: the tenant's provider set to
 * a local OpenID provider that answers its authorize at once (test/node/support/
 * fake-oidc.ts; the real provider's flow is test/node/sso-e2e.test.ts), read,
 * a link begun by a signed-in user, a sign-in from start (302 to the provider) to callback (the token pair),
 * which links the account of the provider's email (registered first, with a password, so its user
 * can unlink it: `DELETE /me/sso`), and a second sign-in that links it again for an administrator to unlink.
 * The configuration stays for the error requests; {@link ssoTearDown} removes it.
 */
export async function ssoSweep(
  s: Sweep,
  admin: Base,
  anon: Base,
  user: { jwt: Base; password: string },
): Promise<void> {
  provider = await startFakeProvider({ client_id: CLIENT.client_id });
  await s.need({
    ...admin,
    op: "PUT /api/v1/admin/sso",
    label: "admin key",
    expect: 200,
    json: { ...SSO_SAMPLE, issuer: provider.issuer, jit: true },
  });
  await s.call({ ...admin, op: "GET /api/v1/admin/sso", label: "admin key", expect: 200 });
  // A signed-in user starts linking their account (the URL is not followed: the sign-in below is the flow).
  await s.call({
    ...user.jwt,
    op: "POST /api/v1/me/sso/link",
    label: "JWT, password",
    expect: 200,
    json: { password: user.password },
  });
  const linked = await s.need<{ id: string }>({
    ...anon,
    op: "POST /api/v1/auth/register",
    label: "the provider's email",
    expect: 201,
    json: { email: FAKE_EMAIL, password: LINKED_PASSWORD, name: "Linked" },
  });
  const pair = await signIn(s, anon);
  await s.call({
    ...anon,
    headers: { ...anon.headers, authorization: `Bearer ${pair.access_token}` },
    op: "DELETE /api/v1/me/sso",
    label: "JWT, password",
    expect: 204,
    json: { password: LINKED_PASSWORD },
  });
  await signIn(s, anon);
  await s.call({
    ...admin,
    op: "DELETE /api/v1/admin/users/{id}/sso",
    label: "admin key",
    expect: 204,
    params: { id: linked.id },
  });
}

/** The email the local provider asserts for every sign-in (test/node/support/fake-oidc.ts). */
const FAKE_EMAIL = "tampered@example.com";
const LINKED_PASSWORD = "linked-account-password-0123";

/** A sign-in through the local provider, start (302) to callback (200): the token pair. */
async function signIn(s: Sweep, anon: Base): Promise<{ access_token: string }> {
  // Straight to the Worker: Prism's forwarding follows redirects, and would answer for the whole sign-in.
  const started = await s.call({
    ...anon,
    op: "GET /api/v1/auth/sso/start",
    label: "tenant header",
    expect: 302,
    direct: true,
  });
  if (!started.location)
    throw new Error(`SSO start answered ${started.status} without a Location: ${JSON.stringify(started.json)}`);
  const back = await fetch(started.location, { redirect: "manual" });
  const callback = new URL(back.headers.get("location") ?? "", "http://callback.invalid");
  return s.need<{ access_token: string }>({
    ...anon,
    // The start bound the sign-in to the cookie it set, as a browser keeps it.
    headers: { ...anon.headers, cookie: started.cookies.join("; ") },
    op: "GET /api/v1/auth/sso/callback",
    label: "provider's code and state",
    expect: 200,
    query: { code: callback.searchParams.get("code") ?? "", state: callback.searchParams.get("state") ?? "" },
  });
}

/** Removes the provider configuration (after the error requests) and stops the local provider. */
export async function ssoTearDown(s: Sweep, admin: Base): Promise<void> {
  await s.call({ ...admin, op: "DELETE /api/v1/admin/sso", label: "admin key", expect: 204 });
  await provider?.stop();
  provider = undefined;
}
