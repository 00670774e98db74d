// A webhook URL is kept as the WHATWG parser writes it out (percent-encoded), and the
// WebhookRegistry's contract takes at most 2048 characters. A URL within the route's 2048
// that grew past them once written out ("é" is 1 character in, "%C3%A9" 6 out; a space 1 in,
// "%20" 3 out) made the registry refuse the call, and the admin got 500 internal instead of a
// 400 naming body.url. Found by the contract-bounds audit (x11).

import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";

const grown = `https://example.com/${"é".repeat(1000)}`;

describe("a webhook URL longer than 2048 characters once written out", () => {
  it("is refused on create with a 400 naming body.url", async () => {
    const t = await newTenant("wh-url-len");
    expect(grown.length).toBeLessThanOrEqual(2048);
    const res = await call("/api/v1/admin/webhooks", { token: t.adminKey, body: { url: grown, events: ["*"] } });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe("webhook_url_refused");
    expect(JSON.stringify(res.body.errors)).toContain("body.url");
  });

  it("is refused on a PATCH with a 400 naming body.url, the endpoint unchanged", async () => {
    const t = await newTenant("wh-url-len");
    const made = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://hooks.example.com/a", events: ["*"] },
    });
    expect(made.status).toBe(201);
    const res = await call(`/api/v1/admin/webhooks/${made.body.id}`, {
      method: "PATCH",
      token: t.adminKey,
      body: { url: `https://example.com/${" x".repeat(1000)}` },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe("webhook_url_refused");
    const read = await call(`/api/v1/admin/webhooks/${made.body.id}`, { token: t.adminKey });
    expect(read.body.url).toBe("https://hooks.example.com/a");
  });

  it("is taken when written out it is exactly 2048 characters", async () => {
    const t = await newTenant("wh-url-len");
    const base = "https://example.com/";
    const url = `${base}${"%C3%A9".repeat(338)}${"a".repeat(2048 - base.length - 6 * 338)}`;
    expect(url.length).toBe(2048);
    const res = await call("/api/v1/admin/webhooks", { token: t.adminKey, body: { url, events: ["*"] } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.url).toBe(url);
  });
});
