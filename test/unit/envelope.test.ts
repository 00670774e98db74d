import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { nobleAead, wasmAead } from "../../src/kernel/crypto/aead";
import {
  Envelope,
  KeyMaterialDestroyed,
  parseMasterKeys,
  sealedVersion,
  type TenantSeeds,
} from "../../src/kernel/crypto/envelope";
import { SealedKinds } from "../../src/kernel/crypto/sealed-kinds";
import { tenantEnvelopeOf } from "../../src/kernel/crypto/tenant-envelope";
import { base64UrlEncode } from "../../src/kernel/crypto/tokens";
import { destroyTenantKeys } from "../../src/modules/identity/key-material";
import { sealingRuntime } from "../helpers";
import { newTenant } from "../identity/helpers";

/** The fields these tests seal, each a kind of its own. */
const KINDS = new SealedKinds(["webhook.secret", "token", "x\u0000y"]);
const key = () => base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)));
const memorySeeds = (): TenantSeeds & { destroy(t: string): void } => {
  const map = new Map<string, Uint8Array | null>();
  return {
    async seed(tenantId, create) {
      if (!map.has(tenantId) && create) map.set(tenantId, crypto.getRandomValues(new Uint8Array(32)));
      return map.get(tenantId) ?? null;
    },
    destroy(t) {
      map.set(t, null);
    },
  };
};

describe("envelope encryption", () => {
  const v1 = { version: 1, key: key() };
  const masters = parseMasterKeys(JSON.stringify([v1]));

  it("round-trips and stores v<version>.<nonce>.<ct>", async () => {
    const envelope = new Envelope(wasmAead, masters, memorySeeds(), KINDS);
    const stored = await envelope.encrypt("t1", "webhook.secret", "whsec_abc");
    expect(stored).toMatch(/^v1\.[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]+$/);
    expect(stored).not.toContain("whsec");
    expect(await envelope.decryptText("t1", "webhook.secret", stored)).toBe("whsec_abc");
    // A fresh nonce every time.
    expect(await envelope.encrypt("t1", "webhook.secret", "whsec_abc")).not.toBe(stored);
  });

  it("opens with the @noble reference what the WASM core sealed, and the other way round", async () => {
    const seeds = memorySeeds();
    const wasm = new Envelope(wasmAead, masters, seeds, KINDS);
    const noble = new Envelope(nobleAead, masters, seeds, KINDS);
    expect(await noble.decryptText("t1", "token", await wasm.encrypt("t1", "token", "s3cret"))).toBe("s3cret");
    expect(await wasm.decryptText("t1", "token", await noble.encrypt("t1", "token", "s3cret"))).toBe("s3cret");
  });

  it("refuses a ciphertext moved to another tenant or another field, or tampered with", async () => {
    const seeds = memorySeeds();
    const envelope = new Envelope(wasmAead, masters, seeds, KINDS);
    await seeds.seed("t2", true);
    const stored = await envelope.encrypt("t1", "token", "secret");
    await expect(envelope.decrypt("t2", "token", stored)).rejects.toThrow();
    await expect(envelope.decrypt("t1", "other_field", stored)).rejects.toThrow("decryption failed");
    const [v, nonce, ct] = stored.split(".");
    const flip = (s: string) => (s.startsWith("A") ? `B${s.slice(1)}` : `A${s.slice(1)}`);
    await expect(envelope.decrypt("t1", "token", `${v}.${flip(nonce ?? "")}.${ct}`)).rejects.toThrow(
      "decryption failed",
    );
    await expect(envelope.decrypt("t1", "token", `${v}.${nonce}.${flip(ct ?? "")}`)).rejects.toThrow(
      "decryption failed",
    );
    await expect(envelope.decrypt("t1", "token", "v1.garbage")).rejects.toThrow("not an envelope ciphertext");
  });

  it("opens a ciphertext in the one spelling it was sealed in: no leading zero on its key version", async () => {
    // A ciphertext used as a name (the SSO state, spent by value) must not have a second spelling
    // that opens to the same plaintext: `v01.` read as version 1 was one.
    const envelope = new Envelope(wasmAead, masters, memorySeeds(), KINDS);
    const stored = await envelope.encrypt("t1", "token", "secret");
    const respelt = stored.replace(/^v1\./, "v01.");
    expect(respelt).not.toBe(stored);
    expect(sealedVersion(respelt)).toBeNull();
    await expect(envelope.decrypt("t1", "token", respelt)).rejects.toThrow("not an envelope ciphertext");
    expect(sealedVersion(stored)).toBe(1);
  });

  it("rotates: new writes use the new version, old ones still decrypt and re-encrypt to it", async () => {
    const seeds = memorySeeds();
    const old = await new Envelope(wasmAead, masters, seeds, KINDS).encrypt("t1", "token", "secret");
    const v2 = { version: 2, key: key() };
    const rotated = new Envelope(wasmAead, parseMasterKeys(JSON.stringify([v2, v1])), seeds, KINDS);
    expect(await rotated.decryptText("t1", "token", old)).toBe("secret");
    expect(rotated.isStale(old)).toBe(true);
    const moved = await rotated.reencrypt("t1", "token", old);
    expect(moved.startsWith("v2.")).toBe(true);
    expect(rotated.isStale(moved)).toBe(false);
    expect(await rotated.decryptText("t1", "token", moved)).toBe("secret");
    // Once v1 is retired from the secret, what was not re-encrypted is unreadable.
    const retired = new Envelope(wasmAead, parseMasterKeys(JSON.stringify([v2])), seeds, KINDS);
    await expect(retired.decrypt("t1", "token", old)).rejects.toThrow("no master key of version 1");
  });

  it("refuses malformed ENCRYPTION_KEYS without echoing key material", () => {
    const secret = JSON.stringify([{ version: 1, key: "short-secret-value" }]);
    expect(() => parseMasterKeys(secret)).toThrow(/ENCRYPTION_KEYS is invalid/);
    try {
      parseMasterKeys(secret);
    } catch (error) {
      expect(String(error)).not.toContain("short-secret-value");
    }
    expect(() => parseMasterKeys(JSON.stringify([v1, v1]))).toThrow(/version 1 is listed twice/);
    expect(() => parseMasterKeys("[]")).toThrow();
  });

  it("crypto-shreds through the tenant directory: destroyed key material makes ciphertexts unreadable", async () => {
    // A tenant the registry holds: the envelope seals for no other (kernel/crypto/registered-seeds.ts).
    const tenantId = (await newTenant("shred")).id;
    // Through the kernel's port, as a module that declared `test.email` seals (test/helpers.ts).
    const envelope = tenantEnvelopeOf({
      ...sealingRuntime("test.email"),
      config: { encryptionKeys: JSON.stringify([v1]) },
    });
    const stored = await envelope.encrypt(tenantId, "test.email", "ada@example.com");
    expect(await envelope.decryptText(tenantId, "test.email", stored)).toBe("ada@example.com");
    await destroyTenantKeys(env, tenantId, {
      now: new Date().toISOString(),
      actor: { kind: "platform", id: "platform" },
      requestId: null,
    });
    await expect(envelope.decrypt(tenantId, "test.email", stored)).rejects.toBeInstanceOf(KeyMaterialDestroyed);
    await expect(envelope.encrypt(tenantId, "test.email", "new")).rejects.toBeInstanceOf(KeyMaterialDestroyed);
  });

  it("binds the key version: a ciphertext relabelled to another version does not open, even under the same key bytes", async () => {
    // An operator who listed one key under two version numbers (a copy-paste) must not make a
    // value open under a version it was not sealed with: the version is in the data key's derivation.
    const seeds = memorySeeds();
    const same = parseMasterKeys(JSON.stringify([{ version: 2, key: v1.key }, v1]));
    const envelope = new Envelope(wasmAead, same, seeds, KINDS);
    const v2sealed = await envelope.encrypt("t1", "token", "secret");
    expect(sealedVersion(v2sealed)).toBe(2);
    const v1sealed = await new Envelope(wasmAead, masters, seeds, KINDS).encrypt("t1", "token", "secret");
    await expect(envelope.decrypt("t1", "token", v2sealed.replace(/^v2\./, "v1."))).rejects.toThrow(
      "decryption failed",
    );
    await expect(envelope.decrypt("t1", "token", v1sealed.replace(/^v1\./, "v2."))).rejects.toThrow(
      "decryption failed",
    );
    expect(await envelope.decryptText("t1", "token", v1sealed)).toBe("secret");
  });

  it("binds the tenant beyond its seed: tenants with one seed, and ids whose tenant and field run together", async () => {
    // Were the seed all that told tenants apart, a seed source that answered two tenants alike (a
    // bug, a restore) would open one's values as the other's. The tenant id is in the data key's
    // derivation too, so the associated data's run-together pair (t1 + "x\0y", "t1\0x" + "y") differs.
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const envelope = new Envelope(wasmAead, masters, { seed: async () => seed }, KINDS);
    const stored = await envelope.encrypt("t1", "token", "secret");
    await expect(envelope.decrypt("t2", "token", stored)).rejects.toThrow("decryption failed");
    const joined = await envelope.encrypt("t1", "x\u0000y", "secret");
    await expect(envelope.decrypt("t1\u0000x", "y", joined)).rejects.toThrow("decryption failed");
    expect(await envelope.decryptText("t1", "x\u0000y", joined)).toBe("secret");
  });

  it("names no key, seed or plaintext when a value does not open: not in its error, nor in the lines logged", async () => {
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const seeds: TenantSeeds = { seed: async (t) => (t === "gone" ? null : seed) };
    const envelope = new Envelope(wasmAead, masters, seeds, KINDS);
    const plaintext = "plaintext-5550100";
    const stored = await envelope.encrypt("t1", "token", plaintext);
    const lines: unknown[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(...args));
    }
    const errors: unknown[] = [];
    const refused = async (tenant: string, field: string, value: string) =>
      errors.push(
        await envelope.decrypt(tenant, field, value).then(
          () => "opened",
          (e: unknown) => e,
        ),
      );
    try {
      await refused("t1", "other", stored);
      await refused("gone", "token", stored);
      await refused("t1", "token", stored.replace(/^v1\./, "v9."));
    } finally {
      vi.restoreAllMocks();
    }
    expect(errors).not.toContain("opened");
    expect(lines.length).toBeGreaterThan(0);
    const said = JSON.stringify([
      ...errors.map((e) => (e instanceof Error ? [e.message, e.stack, String(e.cause)] : e)),
      ...lines.map(String),
    ]);
    for (const secret of [v1.key, base64UrlEncode(seed), plaintext]) expect(said).not.toContain(secret);
  });

  it("refuses ENCRYPTION_KEYS of any wrong shape without quoting it", () => {
    const secret = v1.key;
    for (const value of [
      JSON.stringify({ version: 1, key: secret }),
      JSON.stringify([{ version: secret, key: secret }]),
      JSON.stringify([{ version: 1, key: { secret } }]),
      JSON.stringify([{ version: 1, key: [secret] }]),
      JSON.stringify([{ version: 1, key: `${secret}=` }]),
      JSON.stringify([{ version: 1.5, key: secret }]),
      JSON.stringify([secret]),
      `[{"version":1,"key":"${secret}"`,
      secret,
    ]) {
      let thrown: unknown;
      try {
        parseMasterKeys(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, value).toBeInstanceOf(Error);
      expect(String(thrown), value).toMatch(/^Error: ENCRYPTION_KEYS /);
      expect(String(thrown), value).not.toContain(secret);
    }
  });
});
