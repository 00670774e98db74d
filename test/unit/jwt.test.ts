import { base64url, decodeProtectedHeader, type JWTPayload, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  type AccessClaims,
  generateSigningJwk,
  jwks,
  loadSigningKeys,
  type PrivateSigningJwk,
  type SigningKeySet,
  signAccessToken,
  verifyAccessToken,
} from "../../src/kernel/auth/jwt";

const ISSUER = "https://plinth.test";
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const SUBJECT = { sub: "usr_1", tid: "tnt_1", roles: ["member"] };

const b64json = (value: unknown) => base64url.encode(JSON.stringify(value));
const decodeSegment = (segment: string | undefined) =>
  JSON.parse(new TextDecoder().decode(base64url.decode(segment ?? ""))) as Record<string, unknown>;

async function keySet(...jwks: PrivateSigningJwk[]): Promise<SigningKeySet> {
  return loadSigningKeys(JSON.stringify(jwks));
}

async function fixture() {
  const jwk = await generateSigningJwk();
  const keys = await keySet(jwk);
  const token = await signAccessToken(keys, SUBJECT, { issuer: ISSUER, now: NOW });
  const claims = decodeSegment(token.split(".")[1]);
  return { jwk, keys, token, claims };
}

const verifyAt = (keys: SigningKeySet, token: string, now = NOW, leewaySeconds?: number) =>
  verifyAccessToken(keys, token, { issuer: ISSUER, now, ...(leewaySeconds === undefined ? {} : { leewaySeconds }) });

/** Signs arbitrary claims with the set's real current key, to test claim checks behind a good signature. */
const signRaw = (keys: SigningKeySet, claims: JWTPayload, header: Record<string, unknown> = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: keys.currentKid, ...header }).sign(keys.sign);

const refused = (reason: "malformed" | "expired" | "invalid") => ({ ok: false, reason });

describe("access tokens: round trip", () => {
  it("verifies what it signs and returns the claims of the contract", async () => {
    const { keys, token } = await fixture();
    const result = await verifyAt(keys, token);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const iat = Math.floor(NOW / 1000);
    expect(result.claims).toEqual({
      iss: ISSUER,
      aud: "plinth",
      sub: "usr_1",
      tid: "tnt_1",
      roles: ["member"],
      iat,
      exp: iat + 900,
      jti: expect.any(String),
    } satisfies Record<keyof Omit<AccessClaims, "sid">, unknown>);
  });

  it("writes exactly the header { alg: EdDSA, typ: JWT, kid } with the current kid, and exp - iat = 900", async () => {
    const { keys, token, claims } = await fixture();
    expect(decodeProtectedHeader(token)).toStrictEqual({ alg: "EdDSA", typ: "JWT", kid: keys.currentKid });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
    expect(ACCESS_TOKEN_TTL_SECONDS).toBe(900);
  });

  it("gives every token its own jti, and carries sid when given one", async () => {
    const { keys } = await fixture();
    const a = await signAccessToken(keys, { ...SUBJECT, sid: "fam_1" }, { issuer: ISSUER, now: NOW });
    const b = await signAccessToken(keys, SUBJECT, { issuer: ISSUER, now: NOW });
    expect(decodeSegment(a.split(".")[1]).jti).not.toBe(decodeSegment(b.split(".")[1]).jti);
    const result = await verifyAt(keys, a);
    expect(result.ok && result.claims.sid).toBe("fam_1");
  });
});

describe("access tokens: time", () => {
  it("refuses a token past exp plus leeway as expired, and accepts it within the leeway", async () => {
    const { keys, token } = await fixture();
    const exp = NOW + ACCESS_TOKEN_TTL_SECONDS * 1000;
    expect((await verifyAt(keys, token, exp + 29_000)).ok).toBe(true);
    expect(await verifyAt(keys, token, exp + 31_000)).toEqual(refused("expired"));
    expect(await verifyAt(keys, token, exp + 1_000, 0)).toEqual(refused("expired"));
  });

  it("refuses a token issued in the future beyond the leeway", async () => {
    const { keys, token } = await fixture();
    expect((await verifyAt(keys, token, NOW - 29_000)).ok).toBe(true);
    expect(await verifyAt(keys, token, NOW - 60_000)).toEqual(refused("invalid"));
  });
});

describe("access tokens: forgeries and wrong claims are refused", () => {
  it("refuses a wrong audience or issuer", async () => {
    const { keys, token, claims } = await fixture();
    expect(await verifyAt(keys, await signRaw(keys, { ...claims, aud: "someone-else" }))).toEqual(refused("invalid"));
    expect(await verifyAt(keys, await signRaw(keys, { ...claims, aud: ["plinth", "x"] }))).toEqual(refused("invalid"));
    const evil = await signRaw(keys, { ...claims, iss: "https://evil.example" });
    expect(await verifyAt(keys, evil)).toEqual(refused("invalid"));
    expect((await verifyAt(keys, token)).ok).toBe(true);
    expect(await verifyAccessToken(keys, token, { issuer: "https://other.test", now: NOW })).toEqual(
      refused("invalid"),
    );
  });

  it("refuses a tampered payload that keeps the original signature", async () => {
    const { keys, token, claims } = await fixture();
    const [head, , signature] = token.split(".");
    const tampered = `${head}.${b64json({ ...claims, roles: ["owner"] })}.${signature}`;
    expect(await verifyAt(keys, tampered)).toEqual(refused("invalid"));
    const otherUser = `${head}.${b64json({ ...claims, sub: "usr_2" })}.${signature}`;
    expect(await verifyAt(keys, otherUser)).toEqual(refused("invalid"));
  });

  it("refuses a signature by another key that claims the same kid", async () => {
    const { jwk, keys, claims } = await fixture();
    const impostor = await keySet(await generateSigningJwk(jwk.kid));
    expect(impostor.currentKid).toBe(keys.currentKid);
    expect(await verifyAt(keys, await signRaw(impostor, claims))).toEqual(refused("invalid"));
  });

  it("refuses an unknown kid, a missing kid and a non-JWT typ", async () => {
    const { keys, claims } = await fixture();
    expect(await verifyAt(keys, await signRaw(keys, claims, { kid: "k-unknown" }))).toEqual(refused("invalid"));
    const noKid = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "JWT" }).sign(keys.sign);
    expect(await verifyAt(keys, noKid)).toEqual(refused("invalid"));
    expect(await verifyAt(keys, await signRaw(keys, claims, { typ: "at+jwt" }))).toEqual(refused("invalid"));
    const noTyp = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: keys.currentKid }).sign(keys.sign);
    expect((await verifyAt(keys, noTyp)).ok).toBe(true);
  });

  it("refuses alg none (unsigned, empty signature) and the fully-specified Ed25519 alg name", async () => {
    const { keys, claims } = await fixture();
    for (const alg of ["none", "None", "NONE"]) {
      const unsigned = `${b64json({ alg, typ: "JWT", kid: keys.currentKid })}.${b64json(claims)}.`;
      expect(await verifyAt(keys, unsigned)).toEqual(refused("invalid"));
    }
    // Same key and signature bytes, but the contract pins the header to EdDSA.
    const ed25519 = await signRaw(keys, claims, { alg: "Ed25519" });
    expect(await verifyAt(keys, ed25519)).toEqual(refused("invalid"));
  });

  it("refuses HS256 keyed with the public key bytes, the x string or the JWKS JSON (algorithm confusion)", async () => {
    const { jwk, keys, claims } = await fixture();
    const publicJwk = jwks(keys).keys[0];
    const secrets = [
      base64url.decode(jwk.x),
      new TextEncoder().encode(jwk.x),
      new TextEncoder().encode(JSON.stringify(jwks(keys))),
      new TextEncoder().encode(JSON.stringify(publicJwk)),
    ];
    for (const secret of secrets) {
      for (const alg of ["HS256", "HS512"]) {
        const token = await new SignJWT(claims)
          .setProtectedHeader({ alg, typ: "JWT", kid: keys.currentKid })
          .sign(secret);
        expect(await verifyAt(keys, token)).toEqual(refused("invalid"));
      }
    }
  });

  it("refuses RS256 and ES256 tokens, really signed, that name our kid", async () => {
    const { keys, claims } = await fixture();
    const rsa = await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    if (!("privateKey" in rsa) || !("privateKey" in ec)) throw new Error("expected key pairs");
    const rs256 = await signRaw(keys, claims, { alg: "RS256" }).catch(() => null);
    expect(rs256).toBeNull(); // jose itself will not sign RS256 with an Ed25519 key
    const rsaToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: keys.currentKid })
      .sign(rsa.privateKey);
    const ecToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", typ: "JWT", kid: keys.currentKid })
      .sign(ec.privateKey);
    expect(await verifyAt(keys, rsaToken)).toEqual(refused("invalid"));
    expect(await verifyAt(keys, ecToken)).toEqual(refused("invalid"));
    // Headers alone, with our real EdDSA signature under them.
    const [, body, signature] = (await signRaw(keys, claims)).split(".");
    for (const alg of ["RS256", "ES256", "PS256"]) {
      const relabelled = `${b64json({ alg, typ: "JWT", kid: keys.currentKid })}.${body}.${signature}`;
      expect(await verifyAt(keys, relabelled)).toEqual(refused("invalid"));
    }
  });

  it("refuses missing sub, tid, jti, iat, exp or roles, and roles that are not an array of strings", async () => {
    const { keys, claims } = await fixture();
    for (const claim of ["sub", "tid", "jti", "iat", "exp", "roles"]) {
      const { [claim]: _dropped, ...rest } = claims;
      expect(await verifyAt(keys, await signRaw(keys, rest)), `without ${claim}`).toEqual(refused("invalid"));
    }
    const bad: Record<string, unknown>[] = [
      { roles: "owner" },
      { roles: [1] },
      { roles: null },
      { sub: 42 },
      { tid: "" },
      { exp: "later" },
    ];
    for (const override of bad) {
      expect(await verifyAt(keys, await signRaw(keys, { ...claims, ...override })), JSON.stringify(override)).toEqual(
        refused("invalid"),
      );
    }
  });
});

describe("access tokens: garbage is malformed, and nothing throws", () => {
  it("answers malformed for strings that are not a compact JWS", async () => {
    const { keys, token } = await fixture();
    const [head, body] = token.split(".");
    const garbage = [
      "",
      "a.b",
      "a.b.c",
      "a.b.c.d",
      `${token}.extra`,
      "!!!.###.$$$",
      "eyJ.eyJ.eyJ",
      `${b64json("not an object")}.${body}.sig`,
      `${base64url.encode("{not json")}.${body}.sig`,
      `${head}.${base64url.encode("[]")}.sig`,
      `${head}.${body}.sig=`,
      ` ${token}`,
      "x".repeat(10_000),
    ];
    for (const input of garbage) {
      expect(await verifyAt(keys, input), input.slice(0, 40)).toEqual(refused("malformed"));
    }
  });

  it("does not throw on inputs that are not strings at all", async () => {
    const { keys } = await fixture();
    for (const input of [undefined, null, 42, {}, ["a", "b", "c"]]) {
      expect(await verifyAt(keys, input as unknown as string)).toEqual(refused("malformed"));
    }
  });
});

describe("signing keys: rotation", () => {
  it("verifies with [new, old] a token signed while old was current; refuses it once old is dropped", async () => {
    const oldJwk = await generateSigningJwk("k-old");
    const newJwk = await generateSigningJwk("k-new");
    const before = await keySet(oldJwk);
    const token = await signAccessToken(before, SUBJECT, { issuer: ISSUER, now: NOW });

    const rotated = await keySet(newJwk, oldJwk);
    expect(rotated.currentKid).toBe("k-new");
    expect((await verifyAt(rotated, token)).ok).toBe(true);
    const fresh = await signAccessToken(rotated, SUBJECT, { issuer: ISSUER, now: NOW });
    expect(decodeProtectedHeader(fresh).kid).toBe("k-new");
    expect((await verifyAt(rotated, fresh)).ok).toBe(true);

    const retired = await keySet(newJwk);
    expect(await verifyAt(retired, token)).toEqual(refused("invalid"));
  });

  it("publishes both public keys in the JWKS, newest first, and no private part", async () => {
    const oldJwk = await generateSigningJwk("k-old");
    const newJwk = await generateSigningJwk("k-new");
    const doc = jwks(await keySet(newJwk, oldJwk));
    expect(doc).toStrictEqual({
      keys: [
        { kty: "OKP", crv: "Ed25519", x: newJwk.x, kid: "k-new", alg: "EdDSA", use: "sig" },
        { kty: "OKP", crv: "Ed25519", x: oldJwk.x, kid: "k-old", alg: "EdDSA", use: "sig" },
      ],
    });
    const text = JSON.stringify(doc);
    expect(text).not.toContain('"d"');
    expect(text).not.toContain(newJwk.d);
    expect(text).not.toContain(oldJwk.d);
  });
});

describe("signing keys: loading the secret", () => {
  async function loadError(secret: string): Promise<Error> {
    const error = await loadSigningKeys(secret).then(
      () => null,
      (e: unknown) => e,
    );
    if (!(error instanceof Error)) throw new Error("expected loadSigningKeys to reject");
    return error;
  }

  it("refuses bad secrets with messages that name the problem and never the private key", async () => {
    const a = await generateSigningJwk("k-a");
    const b = await generateSigningJwk("k-b");
    const { d: _d, ...publicOnly } = a;
    const cases: [string, string, RegExp][] = [
      ["duplicate kids", JSON.stringify([a, { ...b, kid: "k-a" }]), /\[1\]\.kid: duplicate kid/],
      ["empty array", "[]", /at least one key/],
      ["bad JSON", JSON.stringify([a]).slice(0, -3), /not valid JSON/],
      ["public-only JWK", JSON.stringify([b, publicOnly]), /\[1\]\.d/],
      ["not an array", JSON.stringify(a), /invalid/],
      ["bad kid", JSON.stringify([{ ...a, kid: "has space" }]), /\[0\]\.kid/],
      ["short d", JSON.stringify([{ ...a, d: a.d.slice(0, 40) }]), /\[0\]\.d: must be 32 bytes/],
      ["x of another key", JSON.stringify([{ ...a, x: b.x }]), /"k-a": x is not the public key of d/],
      ["wrong curve", JSON.stringify([{ ...a, crv: "X25519" }]), /\[0\]\.crv/],
      ["eleven keys", JSON.stringify(Array.from({ length: 11 }, (_, i) => ({ ...a, kid: `k-${i}` }))), /at most 10/],
    ];
    for (const [name, secret, pattern] of cases) {
      const error = await loadError(secret);
      expect(error.message, name).toMatch(pattern);
      for (const d of [a.d, b.d, a.d.slice(0, 40)]) expect(error.message, name).not.toContain(d);
      expect(String(error.cause ?? ""), name).not.toContain(a.d);
    }
  });

  it("imports a good secret once per isolate and answers later calls from the cache", async () => {
    const secret = JSON.stringify([await generateSigningJwk()]);
    const first = await loadSigningKeys(secret);
    expect(await loadSigningKeys(secret)).toBe(first);
    // The same keys written differently are a different secret string, loaded afresh but equal.
    const spaced = JSON.stringify(JSON.parse(secret), null, 2);
    const second = await loadSigningKeys(spaced);
    expect(second).not.toBe(first);
    expect(second.publicJwks).toEqual(first.publicJwks);
  });

  it("hands no caller a promise another made: concurrent first loads each import, and the set is cached once loaded", async () => {
    // The cache is the isolate's, shared by every request and object: a promise cached in it is
    // awaited by contexts other than the one that made it (see src/kernel/metrics/flush.ts).
    const secret = JSON.stringify([await generateSigningJwk()]);
    const a = loadSigningKeys(secret);
    const b = loadSigningKeys(secret);
    expect(b).not.toBe(a);
    const [first, second] = await Promise.all([a, b]);
    expect(second.publicJwks).toEqual(first.publicJwks);
    // Once loaded, every caller gets the one cached set (the verified-token cache compares it by identity).
    const later = loadSigningKeys(secret);
    expect(later).not.toBe(a);
    expect(await later).toBe(first);
    expect(await loadSigningKeys(secret)).toBe(first);
  });

  it("generates keys with date-based kids, or the kid asked for, and refuses a kid the loader would refuse", async () => {
    const jwk = await generateSigningJwk();
    expect(jwk).toStrictEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: expect.any(String),
      d: expect.any(String),
      kid: jwk.kid,
    });
    expect(jwk.kid).toMatch(/^k-\d{8}-[0-9a-f]{4}$/);
    expect(jwk.kid.slice(2, 10)).toBe(new Date().toISOString().slice(0, 10).replace(/-/g, ""));
    expect((await generateSigningJwk("k-custom")).kid).toBe("k-custom");
    await expect(generateSigningJwk("no spaces please")).rejects.toThrow(/kid/);
  });
});
