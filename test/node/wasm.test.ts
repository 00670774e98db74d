// The crypto core in Node (CLI, benchmarks): wasm/node.ts compiles wasm/core.wasm from
// its bytes and wraps it with the same code as in workerd. A smaller run of the suite.
import { describe, expect, it } from "vitest";
import { CORE_WASM_PATH, compileCore, loadCore } from "../../wasm/node";
import { coreSuite } from "../wasm/suite";
import { text, toHex } from "../wasm/support";

describe("crypto core in Node", () => {
  coreSuite({
    makeCore: (onInstance) => loadCore(CORE_WASM_PATH, onInstance),
    maxBytes: 256 * 1024,
    runs: { small: 200, large: 10, argon2: 8, tamper: 50 },
    leakCalls: 300,
  });

  it("loads wasm/core.wasm by default and exports exactly the core's functions", () => {
    expect(toHex(loadCore().blake2b(text("abc"), { outLen: 32 }))).toBe(
      "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319",
    );
    const names = WebAssembly.Module.exports(compileCore()).map((e) => e.name);
    expect(names.sort()).toEqual(
      [
        "memory",
        "arena_alloc",
        "arena_reset",
        "argon2id",
        "xchacha20poly1305_seal",
        "xchacha20poly1305_open",
        "blake2b",
        "chacha20",
        "poly1305",
      ].sort(),
    );
  });
});
