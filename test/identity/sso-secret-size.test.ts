// A provider's client secret is sealed (tenant envelope, base64url) before the directory keeps
// it, and the directory's contract takes a sealed secret of at most 4096 characters. The route
// bounded the secret at 1024 UTF-16 characters, not bytes: 1024 "€" (3 bytes each in UTF-8)
// sealed to more than 4096, the directory refused the call, and the admin got 500 internal
// instead of a 400 naming body.client_secret. Found by the contract-bounds audit (x11).

import { describe, expect, it } from "vitest";
import { call, newTenant } from "./helpers";

const put = (token: string, secret: string) =>
  call("/api/v1/admin/sso", {
    method: "PUT",
    token,
    body: {
      issuer: "https://login.example.com",
      client_id: "plinth",
      client_secret: secret,
      allowed_domains: ["example.com"],
    },
  });

describe("the SSO client secret's size", () => {
  it("refuses a secret over 1024 bytes as UTF-8 with a 400 naming body.client_secret", async () => {
    const t = await newTenant("sso-size");
    const res = await put(t.adminKey, "€".repeat(1024));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe("validation_failed");
    expect(JSON.stringify(res.body.errors)).toContain("client_secret");
  });

  it("keeps a secret of exactly 1024 bytes, however many characters", async () => {
    const t = await newTenant("sso-size");
    const secret = `${"€".repeat(341)}s`;
    expect(new TextEncoder().encode(secret).byteLength).toBe(1024);
    const res = await put(t.adminKey, secret);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.client_secret_set).toBe(true);
    expect((await put(t.adminKey, "s".repeat(1024))).status).toBe(200);
  });
});
