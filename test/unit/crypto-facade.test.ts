import { env } from "cloudflare:workers";
import { blake2b as nobleBlake2b } from "@noble/hashes/blake2.js";
import { describe, expect, it } from "vitest";
import { loadSigningKeys } from "../../src/kernel/auth/signing-keys";
import { ed25519Signer, hash, isolateDigest, sha256Hex, toHex } from "../../src/kernel/crypto";

const text = (s: string) => new TextEncoder().encode(s);

describe("crypto facade", () => {
  it("hash: SHA-256 (FIPS 180-2 'abc') on WebCrypto, BLAKE2b on the WASM core as @noble computes it", async () => {
    expect(toHex(await hash.sha256(text("abc")))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    const key = crypto.getRandomValues(new Uint8Array(32));
    const message = crypto.getRandomValues(new Uint8Array(1000));
    expect(hash.blake2b(message, { key, outLen: 32 })).toEqual(nobleBlake2b(message, { key, dkLen: 32 }));
  });

  it("isolateDigest: the same secret gives the same digest in this isolate, another secret another, and it is keyed", async () => {
    const secret = "plk_example_0123456789abcdefghijklmnopqrstuvwxyz";
    const digest = isolateDigest(secret);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(isolateDigest(secret)).toBe(digest);
    expect(isolateDigest(`${secret}x`)).not.toBe(digest);
    expect(isolateDigest(secret.slice(0, -1))).not.toBe(digest);
    // Neither the unkeyed BLAKE2b nor the SHA-256 that the API-key index stores: a cache
    // keyed by it holds nothing an index entry or an outside computation could match.
    expect(digest).not.toBe(toHex(nobleBlake2b(text(secret), { dkLen: 32 })));
    expect(digest).not.toBe(await sha256Hex(secret));
  });

  it("signer: signs with the newest key, verifies by kid, and says false (never throws) for anything else", async () => {
    const signer = ed25519Signer(await loadSigningKeys(env.JWT_SIGNING_KEYS as string));
    const message = text("tenant:7:abc");
    const signature = await signer.sign(message);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(await signer.verify(signer.kid, message, signature)).toBe(true);
    expect(await signer.verify(signer.kid, text("tenant:8:abc"), signature)).toBe(false);
    expect(await signer.verify("no-such-kid", message, signature)).toBe(false);
    expect(await signer.verify(signer.kid, message, "not base64url!")).toBe(false);
    expect(await signer.verify(signer.kid, message, signature.slice(0, 40))).toBe(false);
  });
});
