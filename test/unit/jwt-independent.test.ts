import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import {
  generateSigningJwk,
  jwks,
  loadSigningKeys,
  signAccessToken,
  verifyAccessToken,
} from "../../src/kernel/auth/jwt";

// An outside verifier: it sees only the published JWKS text and the token, and
// uses neither jose nor plinth's verify code, nor WebCrypto for the signature.
// If plinth and it disagree, one of them is not doing RFC 7515 / RFC 8037.
ed.hashes.sha512 = sha512;

const ISSUER = "https://plinth.test";

function fromBase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error("not base64url");
  const binary = atob(
    text
      .replace(/-/g, "+")
      .replace(/_/g, "/")
      .padEnd(Math.ceil(text.length / 4) * 4, "="),
  );
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function toBase64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

const jsonSegment = (value: unknown) => toBase64url(new TextEncoder().encode(JSON.stringify(value)));

type Verdict = { ok: true; payload: Record<string, unknown> } | { ok: false; why: string };

function independentVerify(jwksJson: string, token: string, issuer: string, nowSeconds: number): Verdict {
  const set = JSON.parse(jwksJson) as { keys: { kty: string; crv: string; x: string; kid: string; alg?: string }[] };
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, why: "not three segments" };
  const [head = "", body = "", sig = ""] = parts;
  const header = JSON.parse(new TextDecoder().decode(fromBase64url(head))) as Record<string, unknown>;
  if (header.alg !== "EdDSA") return { ok: false, why: `alg ${String(header.alg)}` };
  const jwk = set.keys.find((k) => k.kid === header.kid);
  if (jwk?.kty !== "OKP" || jwk.crv !== "Ed25519") return { ok: false, why: "no such key" };
  const signature = fromBase64url(sig);
  const signingInput = new TextEncoder().encode(`${head}.${body}`);
  // zip215: false is RFC 8032's strict verification, not the consensus-friendly relaxed one.
  if (!ed.verify(signature, signingInput, fromBase64url(jwk.x), { zip215: false })) {
    return { ok: false, why: "bad signature" };
  }
  const payload = JSON.parse(new TextDecoder().decode(fromBase64url(body))) as Record<string, unknown>;
  if (payload.aud !== "plinth") return { ok: false, why: "aud" };
  if (payload.iss !== issuer) return { ok: false, why: "iss" };
  if (typeof payload.exp !== "number" || payload.exp <= nowSeconds) return { ok: false, why: "expired" };
  return { ok: true, payload };
}

async function fixture() {
  const oldJwk = await generateSigningJwk("k-old");
  const newJwk = await generateSigningJwk("k-new");
  const keys = await loadSigningKeys(JSON.stringify([newJwk, oldJwk]));
  const jwksJson = JSON.stringify(jwks(keys));
  const now = Date.now();
  const token = await signAccessToken(keys, { sub: "usr_1", tid: "tnt_1", roles: ["member"] }, { issuer: ISSUER, now });
  return { oldJwk, newJwk, keys, jwksJson, token, nowSeconds: Math.floor(now / 1000) };
}

describe("an independent verifier (noble Ed25519 + the JWKS alone)", () => {
  it("accepts a plinth access token", async () => {
    const { jwksJson, token, nowSeconds } = await fixture();
    const verdict = independentVerify(jwksJson, token, ISSUER, nowSeconds);
    expect(verdict).toMatchObject({ ok: true, payload: { sub: "usr_1", tid: "tnt_1", aud: "plinth", iss: ISSUER } });
  });

  it("rejects a tampered token, a wrong issuer and an expired one", async () => {
    const { jwksJson, token, nowSeconds } = await fixture();
    const [head, body = "", sig] = token.split(".");
    const payload = JSON.parse(new TextDecoder().decode(fromBase64url(body))) as Record<string, unknown>;
    const tampered = `${head}.${jsonSegment({ ...payload, roles: ["owner"] })}.${sig}`;
    expect(independentVerify(jwksJson, tampered, ISSUER, nowSeconds)).toEqual({ ok: false, why: "bad signature" });
    expect(independentVerify(jwksJson, token, "https://evil.example", nowSeconds)).toEqual({ ok: false, why: "iss" });
    expect(independentVerify(jwksJson, token, ISSUER, nowSeconds + 900)).toEqual({ ok: false, why: "expired" });
  });

  it("agrees with plinth the other way: a token signed by noble with the private JWK verifies in plinth", async () => {
    const { keys, oldJwk, nowSeconds } = await fixture();
    const header = jsonSegment({ alg: "EdDSA", typ: "JWT", kid: oldJwk.kid });
    const claims = {
      iss: ISSUER,
      aud: "plinth",
      sub: "usr_9",
      tid: "tnt_9",
      roles: [],
      iat: nowSeconds,
      exp: nowSeconds + 900,
      jti: "j-1",
    };
    const body = jsonSegment(claims);
    const signature = ed.sign(new TextEncoder().encode(`${header}.${body}`), fromBase64url(oldJwk.d));
    const token = `${header}.${body}.${toBase64url(signature)}`;
    expect(await verifyAccessToken(keys, token, { issuer: ISSUER, now: nowSeconds * 1000 })).toEqual({
      ok: true,
      claims,
    });
    // And a noble signature over different bytes is refused by plinth too.
    const forged = `${header}.${jsonSegment({ ...claims, sub: "usr_1" })}.${toBase64url(signature)}`;
    expect(await verifyAccessToken(keys, forged, { issuer: ISSUER, now: nowSeconds * 1000 })).toEqual({
      ok: false,
      reason: "invalid",
    });
  });
});
