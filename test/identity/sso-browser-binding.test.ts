// Login CSRF (RFC 6749 §10.12, RFC 9700 §4.7): someone starts a sign-in into their own account,
// stops at the provider's redirect and sends a victim the callback URL with their code and state.
// The sealed state used to open in any browser, so the victim's was signed into the sender's account.
// A start by navigation now binds its state to a `__Host-` cookie of the browser that began it
// (sso/browser-binding.ts); the callback refuses a bound state without that cookie, before the
// provider is asked. The whole flow in a real browser: test/node/sso-browser.test.ts.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/kernel/config";
import { sealerFor } from "../../src/kernel/crypto/tenant-envelope";
import { directory } from "../../src/modules/identity/directory/contract";
import { browserTagOf, SSO_BROWSER_COOKIE } from "../../src/modules/identity/sso/browser-binding";
import { type PendingSignIn, providerTag, sealState, spentIdOf } from "../../src/modules/identity/sso/state";
import { keyedEnvelope } from "../helpers";
import { ISSUER, ssoKit } from "./sso-helpers";
import { platformAt } from "./two-factor-helpers";

const p = platformAt("2026-04-03T10:00:00.000Z");
const { tenantWithSso } = ssoKit(p, "sso-browser");

const NONCE = "n".repeat(43);

/** The Worker's master keys (the test env's): a state sealed with them opens at its callback. */
function encryptionKeys(): string {
  const parsed = parseConfig({ ...env });
  if (!parsed.ok || !parsed.config.encryptionKeys) throw new Error("the test env has no ENCRYPTION_KEYS");
  return parsed.config.encryptionKeys;
}

/** A state as the Worker seals it at a start: `browser`, the digest of the starting browser's cookie, or null (a link). */
async function stateFor(tenantId: string, browser: string | null, seed = crypto.randomUUID().padEnd(43, "s")) {
  const pending: PendingSignIn = {
    seed: seed.replaceAll("-", "s"),
    expiresAt: new Date(p.clock.now().getTime() + 600_000).toISOString(),
    appRedirect: null,
    linkUserId: null,
    linkRecoveryHash: null,
    linkSecondFactor: false,
    browser,
  };
  const envelope = keyedEnvelope(encryptionKeys(), p.clock);
  return {
    state: await sealState(sealerFor(envelope, tenantId), await providerTag(ISSUER, "plinth"), pending),
    pending,
  };
}

const callback = (slug: string, state: string, cookie?: string) =>
  p.call(`/api/v1/auth/sso/callback?code=the-senders-code&state=${encodeURIComponent(state)}`, {
    tenant: slug,
    headers: cookie === undefined ? {} : { cookie },
  });

describe("a sign-in begun by a browser's navigation completes only in that browser", () => {
  it("refuses the callback in a browser without the start's cookie (login CSRF), before the provider is asked", async () => {
    const t = await tenantWithSso();
    const { state, pending } = await stateFor(t.id, await browserTagOf(NONCE));

    const victim = await callback(t.slug, state);
    expect(victim.status, JSON.stringify(victim.body)).toBe(400);
    expect(victim.body.code).toBe("sso_browser_mismatch");
    expect(JSON.stringify(victim.body)).not.toContain(NONCE);
    // Refused before the provider was asked: the state is not spent, nor is a cookie it has not set cleared.
    expect(await directory(env, t.id).ssoStateSpent({ stateHash: await spentIdOf(pending.seed) })).toBe(false);
    expect(victim.headers.get("set-cookie")).toBeNull();

    // A victim mid-way through a sign-in of their own sends their own cookie: refused all the same.
    const another = await callback(t.slug, state, `${SSO_BROWSER_COOKIE}=${"o".repeat(43)}`);
    expect(another.status).toBe(400);
    expect(another.body.code).toBe("sso_browser_mismatch");
    // So is a cookie of that name set without the prefix's guarantees, or an empty one.
    expect((await callback(t.slug, state, `plinth-sso=${NONCE}`)).body.code).toBe("sso_browser_mismatch");
    expect((await callback(t.slug, state, `${SSO_BROWSER_COOKIE}=`)).body.code).toBe("sso_browser_mismatch");
  });

  it("lets the browser that began it through to the provider", async () => {
    const t = await tenantWithSso();
    const { state } = await stateFor(t.id, await browserTagOf(NONCE));
    const own = await callback(t.slug, state, `theme=dark; ${SSO_BROWSER_COOKIE}=${NONCE}`);
    // Past the binding: the provider is asked (its host does not resolve in tests), as any callback's.
    expect(own.body.code, JSON.stringify(own.body)).toBe("sso_provider_error");
    // The provider answered nothing, so nothing is spent: the cookie stays for the real callback
    // (the answers that clear it: test/node/sso-e2e.test.ts and test/node/sso-browser.test.ts).
    expect(own.headers.get("set-cookie")).toBeNull();
  });

  it("an explicit link's state (begun by a fetch, bound to no browser) needs no cookie", async () => {
    const t = await tenantWithSso();
    const { state } = await stateFor(t.id, null);
    const res = await callback(t.slug, state);
    expect(res.body.code, JSON.stringify(res.body)).toBe("sso_provider_error");
  });
});
