/**
 * The typed wrapper over the WebAssembly crypto core (wasm/core.zig), shared by the
 * Workers entry (wasm/index.ts, which imports the compiled module) and the Node entry
 * (wasm/node.ts, which compiles it from the file). No `.wasm` import here.
 *
 * Every call validates its arguments before touching linear memory, copies the inputs
 * into the core's arena, runs one operation, copies the output out, and then has the
 * core zero and rewind the arena (also when the operation failed). Results are fresh
 * `Uint8Array`s, never views into linear memory.
 */

/** Argon2 cost parameters: memory `m` in KiB, iterations `t`, parallelism `p`. */
export interface Argon2Params {
  m: number;
  t: number;
  p: number;
}

/** Options of {@link CryptoCore.blake2b}. */
export interface Blake2bOptions {
  /** Digest length in bytes, 1..64 (default 64). */
  outLen?: number;
  /** Key for keyed hashing (a MAC), 0..64 bytes; empty or absent means unkeyed. */
  key?: Uint8Array;
}

/** The primitives of the crypto core. All inputs are copied; inputs are never modified. */
export interface CryptoCore {
  /** Argon2id (RFC 9106, version 0x13, no secret, no associated data). */
  argon2id(password: Uint8Array, salt: Uint8Array, params: Argon2Params, outLen: number): Uint8Array;
  /** XChaCha20-Poly1305 encryption; returns ciphertext || 16-byte tag. */
  xchacha20poly1305Seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad?: Uint8Array): Uint8Array;
  /** XChaCha20-Poly1305 decryption of ciphertext || tag; throws `Error("decryption failed")` when it does not authenticate. */
  xchacha20poly1305Open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad?: Uint8Array): Uint8Array;
  /** BLAKE2b (RFC 7693), optionally keyed, with a digest of 1..64 bytes. */
  blake2b(message: Uint8Array, options?: Blake2bOptions): Uint8Array;
  /**
   * ChaCha20 (RFC 8439 section 2.4): `data` xor the keystream of the 32-byte key and the
   * 12-byte nonce from block `counter` (0..2^32-1). Encrypts and decrypts. The last block
   * used must not pass 2^32-1 (a RangeError otherwise). A raw stream cipher, with no
   * authentication: for the protocol tests and building blocks, not for storing data.
   */
  chacha20(key: Uint8Array, nonce: Uint8Array, counter: number, data: Uint8Array): Uint8Array;
  /** Poly1305 (RFC 8439 section 2.5): the 16-byte tag of `message` under a 32-byte one-time key. */
  poly1305(key: Uint8Array, message: Uint8Array): Uint8Array;
}

/** The exports of core.wasm; keep in step with wasm/core.zig. */
interface CoreExports {
  memory: WebAssembly.Memory;
  arena_alloc(len: number): number;
  arena_reset(): void;
  argon2id(
    pwd: number,
    pwdLen: number,
    salt: number,
    saltLen: number,
    m: number,
    t: number,
    p: number,
    out: number,
    outLen: number,
  ): number;
  xchacha20poly1305_seal(
    key: number,
    nonce: number,
    ad: number,
    adLen: number,
    msg: number,
    msgLen: number,
    out: number,
  ): number;
  xchacha20poly1305_open(
    key: number,
    nonce: number,
    ad: number,
    adLen: number,
    sealed: number,
    sealedLen: number,
    out: number,
  ): number;
  blake2b(outLen: number, key: number, keyLen: number, msg: number, msgLen: number, out: number): number;
  chacha20(key: number, nonce: number, counter: number, msg: number, msgLen: number, out: number): number;
  poly1305(key: number, msg: number, msgLen: number, out: number): number;
}

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
export const CHACHA20_NONCE_BYTES = 12;
export const POLY1305_KEY_BYTES = 32;

const STATUS_OK = 0;
const STATUS_BAD_ARGS = -1;
const STATUS_AUTH_FAILED = -2;
const STATUS_OUT_OF_MEMORY = -3;

const U32_MAX = 0xffff_ffff;
const CHACHA20_BLOCK = 64;
const U24_MAX = 0xff_ffff;
const ARGON2_MIN_SALT = 8;
const ARGON2_MIN_OUT = 4;
// RFC 9106 allows up to 2^32-1 output bytes; nothing here needs more than a few keys' worth.
const ARGON2_MAX_OUT = 1024;
const BLAKE2B_MAX_OUT = 64;
const BLAKE2B_MAX_KEY = 64;
// wasm32 addresses 4 GiB; the core's stack, data and alignment padding need a little of it.
const MAX_ARENA_BYTES = 0xfff0_0000;
const EMPTY = new Uint8Array(0);

/**
 * Builds the wrapper over instances made by `instantiate`. The first call instantiates;
 * if the core ever traps, its memory is zeroed, the instance dropped and the next call
 * starts a fresh one.
 *
 * @example
 * const core = createCore(() => new WebAssembly.Instance(coreModule, {}));
 * const digest = core.blake2b(new TextEncoder().encode("abc"), { outLen: 32 });
 */
export function createCore(instantiate: () => WebAssembly.Instance): CryptoCore {
  let core: CoreExports | undefined;
  let heap = EMPTY;

  // The view over linear memory; growth replaces the buffer, so it is looked up again.
  const memory = (x: CoreExports): Uint8Array => {
    if (heap.buffer !== x.memory.buffer) heap = new Uint8Array(x.memory.buffer);
    return heap;
  };

  // Runs `body` with `size` bytes of arena at `base`; `body` returns the output or the
  // core's failure status. The arena is zeroed and rewound afterwards whatever happened.
  const run = (operation: string, size: number, body: (x: CoreExports, base: number) => Uint8Array | number) => {
    if (size > MAX_ARENA_BYTES) throw new RangeError(`crypto core: ${operation} inputs too large (${size} bytes)`);
    core ??= instantiate().exports as unknown as CoreExports;
    const x = core;
    let result: Uint8Array | number | undefined;
    try {
      // Addresses are unsigned; above 2 GiB they would arrive as negative i32s.
      const base = x.arena_alloc(size) >>> 0;
      result = base === 0 ? STATUS_OUT_OF_MEMORY : body(x, base);
    } finally {
      if (result === undefined) {
        // The core trapped (or the stack ran out inside it): its state is undefined, so
        // wipe all of its memory and let the next call start a fresh instance.
        memory(x).fill(0);
        core = undefined;
        heap = EMPTY;
      } else {
        x.arena_reset();
      }
    }
    if (typeof result === "number") throw statusError(result, operation);
    return result;
  };

  /** Lays out key, nonce, AD and input in one allocation, runs seal or open, copies `outLen` bytes out. */
  const aead = (
    op: "seal" | "open",
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    input: Uint8Array,
    outLen: number,
  ) =>
    run(op, KEY_BYTES + NONCE_BYTES + ad.length + input.length + outLen, (x, base) => {
      const mem = memory(x);
      const nonceAt = base + KEY_BYTES;
      const adAt = nonceAt + NONCE_BYTES;
      const inputAt = adAt + ad.length;
      const out = inputAt + input.length;
      mem.set(key, base);
      mem.set(nonce, nonceAt);
      mem.set(ad, adAt);
      mem.set(input, inputAt);
      const call = op === "seal" ? x.xchacha20poly1305_seal : x.xchacha20poly1305_open;
      const status = call(base, nonceAt, adAt, ad.length, inputAt, input.length, out);
      if (status !== STATUS_OK) return status;
      return memory(x).slice(out, out + outLen);
    });

  return {
    argon2id(password, salt, params, outLen) {
      bytes("password", password);
      bytes("salt", salt);
      if (salt.length < ARGON2_MIN_SALT)
        throw new RangeError(`salt must be at least ${ARGON2_MIN_SALT} bytes, got ${salt.length}`);
      const { m, t, p } = params;
      integer("p", p, 1, U24_MAX);
      integer("t", t, 1, U32_MAX);
      integer("m", m, 8 * p, U32_MAX);
      integer("outLen", outLen, ARGON2_MIN_OUT, ARGON2_MAX_OUT);
      // Argon2's blocks come from the arena too, after these inputs.
      return run("argon2id", password.length + salt.length + outLen, (x, base) => {
        const mem = memory(x);
        const pwd = base;
        const saltAt = pwd + password.length;
        const out = saltAt + salt.length;
        mem.set(password, pwd);
        mem.set(salt, saltAt);
        const status = x.argon2id(pwd, password.length, saltAt, salt.length, m, t, p, out, outLen);
        if (status !== STATUS_OK) return status;
        return memory(x).slice(out, out + outLen);
      });
    },

    xchacha20poly1305Seal(key, nonce, plaintext, ad = EMPTY) {
      aeadArgs(key, nonce, ad);
      bytes("plaintext", plaintext);
      return aead("seal", key, nonce, ad, plaintext, plaintext.length + TAG_BYTES);
    },

    xchacha20poly1305Open(key, nonce, sealed, ad = EMPTY) {
      aeadArgs(key, nonce, ad);
      bytes("sealed", sealed);
      if (sealed.length < TAG_BYTES) {
        throw new RangeError(`sealed message must be at least ${TAG_BYTES} bytes (the tag), got ${sealed.length}`);
      }
      return aead("open", key, nonce, ad, sealed, sealed.length - TAG_BYTES);
    },

    blake2b(message, options = {}) {
      bytes("message", message);
      const outLen = options.outLen ?? BLAKE2B_MAX_OUT;
      const key = options.key ?? EMPTY;
      integer("outLen", outLen, 1, BLAKE2B_MAX_OUT);
      bytes("key", key);
      if (key.length > BLAKE2B_MAX_KEY)
        throw new RangeError(`key must be at most ${BLAKE2B_MAX_KEY} bytes, got ${key.length}`);
      return run("blake2b", key.length + message.length + outLen, (x, base) => {
        const mem = memory(x);
        const msgAt = base + key.length;
        const out = msgAt + message.length;
        mem.set(key, base);
        mem.set(message, msgAt);
        const status = x.blake2b(outLen, base, key.length, msgAt, message.length, out);
        if (status !== STATUS_OK) return status;
        return memory(x).slice(out, out + outLen);
      });
    },

    chacha20(key, nonce, counter, data) {
      bytes("key", key);
      bytes("nonce", nonce);
      bytes("data", data);
      if (key.length !== KEY_BYTES) throw new RangeError(`key must be ${KEY_BYTES} bytes, got ${key.length}`);
      if (nonce.length !== CHACHA20_NONCE_BYTES) {
        throw new RangeError(`nonce must be ${CHACHA20_NONCE_BYTES} bytes, got ${nonce.length}`);
      }
      integer("counter", counter, 0, U32_MAX);
      const blocks = Math.ceil(data.length / CHACHA20_BLOCK);
      if (blocks > 0 && counter + blocks - 1 > U32_MAX) {
        throw new RangeError(
          `counter ${counter} + ${blocks} blocks of data would pass the last block counter 2^32-1 (the 32-bit counter must not wrap)`,
        );
      }
      return run("chacha20", KEY_BYTES + CHACHA20_NONCE_BYTES + 2 * data.length, (x, base) => {
        const mem = memory(x);
        const nonceAt = base + KEY_BYTES;
        const msgAt = nonceAt + CHACHA20_NONCE_BYTES;
        const out = msgAt + data.length;
        mem.set(key, base);
        mem.set(nonce, nonceAt);
        mem.set(data, msgAt);
        const status = x.chacha20(base, nonceAt, counter, msgAt, data.length, out);
        if (status !== STATUS_OK) return status;
        return memory(x).slice(out, out + data.length);
      });
    },

    poly1305(key, message) {
      bytes("key", key);
      bytes("message", message);
      if (key.length !== POLY1305_KEY_BYTES) {
        throw new RangeError(`key must be ${POLY1305_KEY_BYTES} bytes, got ${key.length}`);
      }
      return run("poly1305", POLY1305_KEY_BYTES + message.length + TAG_BYTES, (x, base) => {
        const mem = memory(x);
        const msgAt = base + POLY1305_KEY_BYTES;
        const out = msgAt + message.length;
        mem.set(key, base);
        mem.set(message, msgAt);
        const status = x.poly1305(base, msgAt, message.length, out);
        if (status !== STATUS_OK) return status;
        return memory(x).slice(out, out + TAG_BYTES);
      });
    },
  };
}

function bytes(name: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

function integer(name: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}

function aeadArgs(key: unknown, nonce: unknown, ad: unknown): void {
  bytes("key", key);
  bytes("nonce", nonce);
  bytes("ad", ad);
  if (key.length !== KEY_BYTES) throw new RangeError(`key must be ${KEY_BYTES} bytes, got ${key.length}`);
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
}

function statusError(status: number, operation: string): Error {
  if (status === STATUS_AUTH_FAILED) return new Error("decryption failed");
  if (status === STATUS_OUT_OF_MEMORY) return new RangeError(`crypto core: out of memory in ${operation}`);
  // The wrapper validates everything the core checks, so this is a bug in one of them.
  if (status === STATUS_BAD_ARGS) return new RangeError(`crypto core: ${operation} refused its arguments`);
  return new Error(`crypto core: ${operation} returned unknown status ${status}`);
}
