// A signed download URL works until the instant its `expires_at` names, and not a moment past
// it: the download compared whole seconds, so a URL answered "expires_at …:11.000Z" still
// downloaded at …:11.999Z, and one asked for with `expires_in: 1` lived anywhere from 1 to 2 s.
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { modules } from "../../src/modules";
import { expectProblem, testApp } from "../helpers";
import { newTenant } from "../identity/helpers";
import { bytesOf, uploaded } from "./helpers";

describe("a signed URL's expiry", () => {
  it("is exactly its expires_at, at least expires_in after it was made", async () => {
    const t = await newTenant();
    const file = await uploaded(t.adminKey, bytesOf(32));
    // Minted 0.4 s into a second: neither the mint nor the check may round that away.
    const minted = Math.floor(Date.now() / 1000) * 1000 + 400;
    const clock = manualClock(new Date(minted));
    const app = testApp(modules, {}, MIGRATIONS, clock);
    const res = await app.fetch(`/api/v1/files/${file.id}/url`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ expires_in: 1 }),
    });
    expect(res.status).toBe(200);
    const { url, expires_at } = (await res.json()) as { url: string; expires_at: string };
    const expiresAt = Date.parse(expires_at);
    // Asked for one second: it lives at least that, and less than a second more (exp is whole seconds).
    expect(expiresAt - minted).toBeGreaterThanOrEqual(1000);
    expect(expiresAt - minted).toBeLessThan(2000);
    const { pathname, search } = new URL(url);
    const at = async (ms: number) => {
      clock.set(new Date(ms));
      return app.fetch(`${pathname}${search}`);
    };
    expect((await at(expiresAt - 1)).status).toBe(200);
    await expectProblem(await at(expiresAt), 403, "url_expired");
    await expectProblem(await at(expiresAt + 500), 403, "url_expired");
  });
});
