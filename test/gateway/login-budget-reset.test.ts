// Wrong passwords spend the account's `login` budget: whoever holds a stolen (or voided) old password
// could keep the member who just completed a reset out of their new password with 429 for up to the
// policy's period. Completing the reset proves the mailbox and sets a new password, so it gives that
// budget back whole, to that account only (docs/identity.md "Resetting a member's password").
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { mailTo, tokenIn } from "../identity/helpers";
import { type Answer, gateway, parseList } from "./helpers";

const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "an entirely new passphrase";
// The platform's own `login` policy (10 per 15 minutes, 5 at once), in its own mode.
const login = { login: { mode: "sync", on_failure: "open" } } as const;

type Call = ReturnType<typeof gateway>["call"];

async function registered(call: Call, slug: string, email: string): Promise<string> {
  const res = await call("/api/v1/auth/register", { tenant: slug, body: { email, password: PASSWORD, name: "x" } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return String(res.body.id);
}

const attempt = (call: Call, slug: string, email: string, password: string) =>
  call("/api/v1/auth/login", { tenant: slug, body: { email, password } });

/** Wrong passwords until the account's budget refuses: five 401s, then 429 (even for the right password). */
async function exhaust(call: Call, slug: string, email: string, password = PASSWORD): Promise<void> {
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await attempt(call, slug, email, "not the password at all")).status);
  expect(statuses).toEqual([401, 401, 401, 401, 401]);
  const refused = await attempt(call, slug, email, password);
  expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 429, code: "rate_limited" });
}

const remaining = (res: Answer) => parseList(res.headers.get("ratelimit")).login?.r;

describe("completing a password reset gives the account's login budget back", () => {
  it("lets the member in with the new password after the old one's holder spent the budget (an administrator's reset with sign_out)", async () => {
    const { call, tenant } = gateway(login);
    const t = await tenant("reset-budget");
    const email = "ada@example.com";
    const id = await registered(call, t.slug, email);
    const reset = await call(`/api/v1/users/${id}/password-reset`, { token: t.adminKey, body: { sign_out: true } });
    expect(reset.status, JSON.stringify(reset.body)).toBe(202);
    // Whoever stole the old password keeps trying it: voided, it is a wrong one, and the budget runs out.
    await exhaust(call, t.slug, email);

    const token = tokenIn(await mailTo(t.slug, email, "Reset"));
    const confirmed = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token, password: NEW_PASSWORD },
    });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(204);

    const first = await attempt(call, t.slug, email, NEW_PASSWORD);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    // Whole: the right password's try is given back, so all five remain.
    expect(remaining(first)).toBe(5);
    // Guesses count again from there, the old password among them.
    await exhaust(call, t.slug, email, NEW_PASSWORD);
  });

  it("after a reset the member asked for, and leaves every other account's budget as it was", async () => {
    const { call, tenant } = gateway(login);
    const [t, other] = [await tenant("reset-budget-self"), await tenant("reset-budget-other")];
    const email = "bo@example.com";
    await registered(call, t.slug, email);
    await registered(call, t.slug, "cy@example.com");
    // The same address in another tenant is another account, with a budget of its own.
    await registered(call, other.slug, email);
    await exhaust(call, t.slug, email);
    await exhaust(call, other.slug, email);
    for (let i = 0; i < 2; i++)
      expect((await attempt(call, t.slug, "cy@example.com", "wrong guess!!")).status).toBe(401);

    const asked = await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email } });
    expect(asked.status).toBe(202);
    const token = tokenIn(await mailTo(t.slug, email, "Reset"));
    const confirmed = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token, password: NEW_PASSWORD },
    });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(204);
    expect((await attempt(call, t.slug, email, NEW_PASSWORD)).status).toBe(200);

    // The other tenant's account of that address is still refused, even with its right password.
    expect((await attempt(call, other.slug, email, PASSWORD)).status).toBe(429);
    // The neighbour's two wrong tries still count: three left, not five.
    const neighbour = await attempt(call, t.slug, "cy@example.com", PASSWORD);
    expect(neighbour.status).toBe(200);
    expect(remaining(neighbour)).toBe(3);
  });

  it("completes the reset when the limiter cannot be reached to give the budget back", async () => {
    // The real objects, but a restore that fails, as an unreachable object would.
    const limiter = {
      getByName: (name: string) => {
        const stub = env.RATE_LIMITER.getByName(name);
        return {
          check: (args: Parameters<typeof stub.check>[0]) => stub.check(args),
          refund: (args: Parameters<typeof stub.refund>[0]) => stub.refund(args),
          restore: () => Promise.reject(new Error("limiter unreachable")),
        };
      },
    };
    const { call, tenant } = gateway(login, { RATE_LIMITER: limiter });
    const t = await tenant("reset-budget-down");
    const email = "di@example.com";
    await registered(call, t.slug, email);
    await exhaust(call, t.slug, email);
    expect((await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email } })).status).toBe(202);
    const token = tokenIn(await mailTo(t.slug, email, "Reset"));
    const confirmed = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token, password: NEW_PASSWORD },
    });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(204);
    // The new password is set; the budget comes back at the policy's own pace.
    const later = await attempt(call, t.slug, email, NEW_PASSWORD);
    expect(later.status).toBe(429);
  });
});
