// The crypto core inside workerd, loaded the way the Worker loads it: wasm/index.ts
// imports the compiled module (workerd cannot compile WebAssembly from bytes).
import { describe, expect, it } from "vitest";
import { core, instantiateCore } from "../../wasm";
import { createCore } from "../../wasm/core";
import { coreSuite } from "./suite";
import { text, toHex } from "./support";

describe("crypto core in workerd", () => {
  coreSuite({
    makeCore: (onInstance) =>
      createCore(() => {
        const instance = instantiateCore();
        onInstance(instance);
        return instance;
      }),
    maxBytes: 1 << 20,
    runs: { small: 1000, large: 40, argon2: 25, tamper: 200 },
    leakCalls: 2000,
  });

  it("serves the isolate's shared core from wasm/index.ts", () => {
    expect(toHex(core.blake2b(text("abc"), { outLen: 32 }))).toBe(
      "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319",
    );
    const key = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(24).fill(9);
    const sealed = core.xchacha20poly1305Seal(key, nonce, text("hello"));
    expect(core.xchacha20poly1305Open(key, nonce, sealed)).toEqual(text("hello"));
  });
});
