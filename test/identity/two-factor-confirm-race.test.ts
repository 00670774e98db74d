// Confirming an enrolment verifies the code in the Worker against the pending secret it read, off
// the directory's thread. A new enrolment started meanwhile (another tab, or whoever holds the
// access token) replaces that secret: the confirmation must not turn on one its code never proved,
// which the person's authenticator may not hold (locked out of their own second factor).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { platformAt } from "./two-factor-helpers";

const p = platformAt("2031-03-01T00:00:10.000Z");

describe("confirming a two-factor enrolment while another one started", () => {
  it("turns on nothing for the secret the code was verified against, once a new one replaced it", async () => {
    const t = await p.tenant("tfa-confirm-race");
    const ada = await p.user(t.slug, "ada@example.com");
    const start = () => p.call("/api/v1/me/two-factor", { token: ada.token, method: "POST" });
    expect((await start()).status).toBe(201);
    const dir = directory(env, t.id);
    const verified = await dir.twoFactorSecret(ada.id);
    expect(verified?.enabled).toBe(false);
    // The second enrolment lands while the first one's code is being verified.
    expect((await start()).status).toBe(201);

    const step = Math.floor(p.clock.now().getTime() / 30_000);
    const confirmed = await dir.twoFactorConfirm({
      ctx: { now: p.clock.now().toISOString(), actor: { kind: "user", id: ada.id }, requestId: null },
      userId: ada.id,
      step,
      recoveryHashes: ["f".repeat(64)],
      verifiedSecret: verified?.sealedSecret ?? "",
    });
    expect(confirmed).toEqual({ ok: false, error: "invalid" });
    expect((await p.call("/api/v1/me/two-factor", { token: ada.token })).body).toMatchObject({
      enabled: false,
      pending: true,
    });
  });
});
