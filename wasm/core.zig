//! plinth's WebAssembly crypto core, for wasm32-freestanding: Argon2id and BLAKE2b from
//! Zig's standard library; XChaCha20-Poly1305 (aead.zig) over a simd128 ChaCha20
//! (chacha.zig) and a radix-2^26 Poly1305 (poly1305.zig), also exported on their own.
//! Built by `node wasm/build.mjs`; used only through the typed wrapper in wasm/core.ts.
//!
//! Memory model: one bump arena above everything the linker placed in memory (the
//! stack comes first, then static data). The host asks for space with `arena_alloc`,
//! copies its inputs in, calls one operation, copies the output out, then calls
//! `arena_reset`, which zeroes every arena byte used since the previous reset and
//! rewinds. Argon2's block memory comes from the same arena, so it is wiped too.
//! Linear memory grows on demand and never shrinks; its size is the high-water mark
//! of one call (inputs, outputs, Argon2 blocks), not the sum of all calls.
//!
//! Every operation also zeroes the stack depth it can use before returning
//! (`burnStack`), so no key, subkey, keystream or password-derived state is left in
//! linear memory once an export returns.
//!
//! Exports take pointers and lengths as i32 and return an i32 status (see `Status`).
//! Every pointer must lie inside the current arena allocation; anything else is refused
//! with `bad_args` before memory is read or written.

const std = @import("std");

const argon2 = std.crypto.pwhash.argon2;
const aead = @import("aead.zig");
const chacha = @import("chacha.zig");
const Poly1305 = @import("poly1305.zig").Poly1305;
const Blake2b512 = std.crypto.hash.blake2.Blake2b512;

const page_bytes: usize = 65536;
const arena_align: usize = 16;

/// Stack bytes zeroed after each operation: a bound on what the deepest call chain of
/// that operation uses, with room to spare. Measured with Zig 0.16.0 ReleaseFast (stack
/// filled with a pattern, then the lowest overwritten byte found after a call, over
/// sizes 0..5000 B): seal 1728 bytes, open 1024, ChaCha20 640, Poly1305 under 128,
/// BLAKE2b 576, Argon2id 4432 (whatever the sizes and parameters). The residue tests
/// (test/wasm, test/node/wasm.test.ts) fail if an operation outgrows them.
const burn_bytes_aead: usize = 4096;
const burn_bytes_chacha20: usize = 2048;
const burn_bytes_poly1305: usize = 2048;
const burn_bytes_blake2b: usize = 2048;
const burn_bytes_argon2: usize = 8192;

/// Status codes returned by every operation; keep in step with wasm/core.ts.
const Status = enum(i32) {
    ok = 0,
    /// A pointer outside the arena, a length out of range or a parameter out of range.
    bad_args = -1,
    /// The authentication tag did not match: nothing was written to the output.
    auth_failed = -2,
    /// Linear memory could not grow enough.
    out_of_memory = -3,
};

var arena_base: usize = 0;
var arena_top: usize = 0;
var arena_high: usize = 0;

fn arenaInit() void {
    if (arena_base != 0) return;
    arena_base = @wasmMemorySize(0) * page_bytes;
    arena_top = arena_base;
    arena_high = arena_base;
}

fn ensureMemory(end: usize) bool {
    const have = @wasmMemorySize(0) * page_bytes;
    if (end <= have) return true;
    const pages = (end - have + page_bytes - 1) / page_bytes;
    return @wasmMemoryGrow(0, pages) != -1;
}

/// Bump-allocates `len` bytes aligned to `alignment`; null when memory cannot grow.
fn bump(len: usize, alignment: usize) ?usize {
    arenaInit();
    const start = std.mem.alignForward(usize, arena_top, alignment);
    if (start < arena_top) return null;
    const end, const overflow = @addWithOverflow(start, len);
    if (overflow != 0) return null;
    if (!ensureMemory(end)) return null;
    arena_top = end;
    if (end > arena_high) arena_high = end;
    return start;
}

/// Returns a 16-byte aligned pointer to `len` bytes of arena memory, or 0 when linear
/// memory cannot grow enough. Valid until the next `arena_reset`.
export fn arena_alloc(len: usize) usize {
    return bump(len, arena_align) orelse 0;
}

/// Zeroes every arena byte used since the previous reset and frees all of it.
export fn arena_reset() void {
    arenaInit();
    const used: [*]volatile u8 = @ptrFromInt(arena_base);
    std.crypto.secureZero(u8, used[0 .. arena_high - arena_base]);
    arena_top = arena_base;
    arena_high = arena_base;
}

/// The arena as a Zig allocator, for Argon2's blocks. Frees only rewind when they free
/// the latest allocation; the next `arena_reset` reclaims (and zeroes) the rest.
const arena_allocator: std.mem.Allocator = .{ .ptr = undefined, .vtable = &.{
    .alloc = arenaAllocFn,
    .resize = arenaResizeFn,
    .remap = arenaRemapFn,
    .free = arenaFreeFn,
} };

fn arenaAllocFn(_: *anyopaque, len: usize, alignment: std.mem.Alignment, _: usize) ?[*]u8 {
    const addr = bump(len, @max(alignment.toByteUnits(), arena_align)) orelse return null;
    return @ptrFromInt(addr);
}

fn arenaResizeFn(_: *anyopaque, buf: []u8, _: std.mem.Alignment, new_len: usize, _: usize) bool {
    const start = @intFromPtr(buf.ptr);
    if (new_len <= buf.len) {
        if (start + buf.len == arena_top) arena_top = start + new_len;
        return true;
    }
    if (start + buf.len != arena_top) return false;
    const end, const overflow = @addWithOverflow(start, new_len);
    if (overflow != 0 or !ensureMemory(end)) return false;
    arena_top = end;
    if (end > arena_high) arena_high = end;
    return true;
}

fn arenaRemapFn(ctx: *anyopaque, buf: []u8, alignment: std.mem.Alignment, new_len: usize, ret: usize) ?[*]u8 {
    return if (arenaResizeFn(ctx, buf, alignment, new_len, ret)) buf.ptr else null;
}

fn arenaFreeFn(_: *anyopaque, buf: []u8, _: std.mem.Alignment, _: usize) void {
    const start = @intFromPtr(buf.ptr);
    if (start + buf.len == arena_top) arena_top = start;
}

/// The slice at `ptr[0..len]` if it lies wholly inside the current arena allocations.
fn arenaSlice(ptr: usize, len: usize) ?[]u8 {
    // An empty slice reads and writes nothing, so its pointer need not be valid.
    if (len == 0) return &.{};
    if (arena_base == 0 or ptr < arena_base) return null;
    const end, const overflow = @addWithOverflow(ptr, len);
    if (overflow != 0 or end > arena_top) return null;
    const p: [*]u8 = @ptrFromInt(ptr);
    return p[0..len];
}

/// Zeroes `n` bytes of stack below the caller's frame: the region the operation it just
/// called used for keys, states and keystream.
noinline fn burnStack(comptime n: usize) void {
    var buf: [n]u8 = undefined;
    std.crypto.secureZero(u8, &buf);
}

/// Argon2id (RFC 9106, version 0x13, no secret, no associated data) of the password
/// and salt with memory `m_kib` KiB, `t` passes and `p` lanes, into `out[0..out_len]`.
export fn argon2id(
    pwd: usize,
    pwd_len: usize,
    salt: usize,
    salt_len: usize,
    m_kib: u32,
    t: u32,
    p: u32,
    out: usize,
    out_len: usize,
) i32 {
    const status = argon2idImpl(pwd, pwd_len, salt, salt_len, m_kib, t, p, out, out_len);
    burnStack(burn_bytes_argon2);
    return @intFromEnum(status);
}

noinline fn argon2idImpl(
    pwd: usize,
    pwd_len: usize,
    salt: usize,
    salt_len: usize,
    m_kib: u32,
    t: u32,
    p: u32,
    out: usize,
    out_len: usize,
) Status {
    const password = arenaSlice(pwd, pwd_len) orelse return .bad_args;
    const salt_bytes = arenaSlice(salt, salt_len) orelse return .bad_args;
    const derived = arenaSlice(out, out_len) orelse return .bad_args;
    if (p < 1 or p > std.math.maxInt(u24) or t < 1 or m_kib / 8 < p) return .bad_args;
    const params: argon2.Params = .{ .t = t, .m = m_kib, .p = @intCast(p) };
    // wasm32-freestanding is single-threaded, so kdf never touches the Io.
    argon2.kdf(arena_allocator, derived, password, salt_bytes, params, .argon2id, std.Io.failing) catch |err| {
        return switch (err) {
            error.OutOfMemory => .out_of_memory,
            else => .bad_args,
        };
    };
    return .ok;
}

/// XChaCha20-Poly1305 encryption: writes ciphertext || 16-byte tag to `out[0..msg_len+16]`.
export fn xchacha20poly1305_seal(
    key: usize,
    nonce: usize,
    ad: usize,
    ad_len: usize,
    msg: usize,
    msg_len: usize,
    out: usize,
) i32 {
    const status = sealImpl(key, nonce, ad, ad_len, msg, msg_len, out);
    burnStack(burn_bytes_aead);
    return @intFromEnum(status);
}

noinline fn sealImpl(key: usize, nonce: usize, ad: usize, ad_len: usize, msg: usize, msg_len: usize, out: usize) Status {
    const k = arenaSlice(key, aead.key_length) orelse return .bad_args;
    const n = arenaSlice(nonce, aead.nonce_length) orelse return .bad_args;
    const a = arenaSlice(ad, ad_len) orelse return .bad_args;
    const m = arenaSlice(msg, msg_len) orelse return .bad_args;
    const sealed_len, const overflow = @addWithOverflow(msg_len, aead.tag_length);
    if (overflow != 0) return .bad_args;
    const o = arenaSlice(out, sealed_len) orelse return .bad_args;
    if (!disjointOrSame(o[0..msg_len], m)) return .bad_args;
    aead.seal(o[0..msg_len], o[msg_len..][0..aead.tag_length], m, a, k[0..aead.key_length], n[0..aead.nonce_length]);
    return .ok;
}

/// XChaCha20-Poly1305 decryption of `sealed[0..sealed_len]` (ciphertext || tag) into
/// `out[0..sealed_len-16]`; `auth_failed` when the tag does not match.
export fn xchacha20poly1305_open(
    key: usize,
    nonce: usize,
    ad: usize,
    ad_len: usize,
    sealed: usize,
    sealed_len: usize,
    out: usize,
) i32 {
    const status = openImpl(key, nonce, ad, ad_len, sealed, sealed_len, out);
    burnStack(burn_bytes_aead);
    return @intFromEnum(status);
}

noinline fn openImpl(key: usize, nonce: usize, ad: usize, ad_len: usize, sealed: usize, sealed_len: usize, out: usize) Status {
    const tag_len = aead.tag_length;
    if (sealed_len < tag_len) return .bad_args;
    const msg_len = sealed_len - tag_len;
    const k = arenaSlice(key, aead.key_length) orelse return .bad_args;
    const n = arenaSlice(nonce, aead.nonce_length) orelse return .bad_args;
    const a = arenaSlice(ad, ad_len) orelse return .bad_args;
    const s = arenaSlice(sealed, sealed_len) orelse return .bad_args;
    const o = arenaSlice(out, msg_len) orelse return .bad_args;
    if (!disjointOrSame(o, s[0..msg_len])) return .bad_args;
    aead.open(o, s[0..msg_len], s[msg_len..][0..tag_len], a, k[0..aead.key_length], n[0..aead.nonce_length]) catch return .auth_failed;
    return .ok;
}

/// ChaCha20 (RFC 8439 section 2.4, 32-bit counter, 12-byte nonce): `out[0..msg_len]` =
/// `msg` xor the keystream from block `counter`. `bad_args` when the last block's
/// counter would pass 2^32-1.
export fn chacha20(key: usize, nonce: usize, counter: u32, msg: usize, msg_len: usize, out: usize) i32 {
    const status = chacha20Impl(key, nonce, counter, msg, msg_len, out);
    burnStack(burn_bytes_chacha20);
    return @intFromEnum(status);
}

noinline fn chacha20Impl(key: usize, nonce: usize, counter: u32, msg: usize, msg_len: usize, out: usize) Status {
    const k = arenaSlice(key, 32) orelse return .bad_args;
    const n = arenaSlice(nonce, 12) orelse return .bad_args;
    const m = arenaSlice(msg, msg_len) orelse return .bad_args;
    const o = arenaSlice(out, msg_len) orelse return .bad_args;
    if (!disjointOrSame(o, m)) return .bad_args;
    const blocks = (@as(u64, msg_len) + chacha.block_bytes - 1) / chacha.block_bytes;
    if (blocks > (@as(u64, 1) << 32) - counter) return .bad_args;
    var key_words = chacha.keyWords(k[0..32]);
    chacha.xor(o, m, &key_words, chacha.nonceWords(n[0..12]), counter);
    std.crypto.secureZero(u32, &key_words);
    return .ok;
}

/// Poly1305 (RFC 8439 section 2.5) of `msg` under the one-time key `key[0..32]`, into
/// `out[0..16]`.
export fn poly1305(key: usize, msg: usize, msg_len: usize, out: usize) i32 {
    const status = poly1305Impl(key, msg, msg_len, out);
    burnStack(burn_bytes_poly1305);
    return @intFromEnum(status);
}

noinline fn poly1305Impl(key: usize, msg: usize, msg_len: usize, out: usize) Status {
    const k = arenaSlice(key, Poly1305.key_length) orelse return .bad_args;
    const m = arenaSlice(msg, msg_len) orelse return .bad_args;
    const o = arenaSlice(out, Poly1305.mac_length) orelse return .bad_args;
    // create() zeroes its state in final().
    Poly1305.create(o[0..Poly1305.mac_length], m, k[0..Poly1305.key_length]);
    return .ok;
}

/// Whether `a` and `b` are the same bytes or do not overlap: the stream cipher reads
/// each 16 bytes before it writes them, which is safe in place but not for a shifted
/// overlap.
fn disjointOrSame(a: []const u8, b: []const u8) bool {
    const pa = @intFromPtr(a.ptr);
    const pb = @intFromPtr(b.ptr);
    return a.len == 0 or b.len == 0 or pa == pb or pa + a.len <= pb or pb + b.len <= pa;
}

/// BLAKE2b (RFC 7693) with a digest of `out_len` bytes (1..64) and an optional key of
/// `key_len` bytes (0..64), into `out[0..out_len]`.
export fn blake2b(out_len: usize, key: usize, key_len: usize, msg: usize, msg_len: usize, out: usize) i32 {
    const status = blake2bImpl(out_len, key, key_len, msg, msg_len, out);
    burnStack(burn_bytes_blake2b);
    return @intFromEnum(status);
}

noinline fn blake2bImpl(out_len: usize, key: usize, key_len: usize, msg: usize, msg_len: usize, out: usize) Status {
    if (out_len < 1 or out_len > Blake2b512.digest_length) return .bad_args;
    if (key_len > Blake2b512.key_length_max) return .bad_args;
    const k = arenaSlice(key, key_len) orelse return .bad_args;
    const m = arenaSlice(msg, msg_len) orelse return .bad_args;
    const o = arenaSlice(out, out_len) orelse return .bad_args;
    // BLAKE2b's digest length is a parameter of the hash, not a truncation: it goes
    // into the parameter block (expected_out_bits), and the digest is the first
    // out_len bytes of the final state.
    var state = Blake2b512.init(.{
        .key = if (key_len > 0) k else null,
        .expected_out_bits = out_len * 8,
    });
    state.update(m);
    var digest: [Blake2b512.digest_length]u8 = undefined;
    state.final(&digest);
    @memcpy(o, digest[0..out_len]);
    return .ok;
}
