//! ChaCha20 (RFC 8439, IETF variant: 32-bit block counter, 96-bit nonce) and HChaCha20
//! (draft-irtf-cfrg-xchacha-03) written for wasm simd128 with `@Vector(4, u32)`.
//!
//! Bulk data goes four blocks at a time in the "vertical" layout: vector i holds state
//! word i of four consecutive blocks, lane j belonging to block counter + j. A round is
//! then lane-wise adds, xors and rotations only, no shuffles; at the end a 4x4 transpose
//! per group of four words turns the vectors back into four 64-byte blocks, which are
//! xored with the input 16 bytes at a time.
//!
//! A fifth block beside four (a 5-block pass) keeps its four rows in four vectors and
//! rotates lanes between the column and the diagonal rounds. HChaCha20 and a lone
//! block are scalar code.
//!
//! Nothing here allocates or keeps state: keystream buffers live on the caller's stack
//! and are zeroed before returning; the stack below is burnt by the exports in core.zig.

const std = @import("std");

pub const V = @Vector(4, u32);
const Bytes = @Vector(16, u8);

pub const block_bytes = 64;
/// Bytes produced by one pass of the 4-block function.
pub const wide_bytes = 4 * block_bytes;
/// Bytes produced by one pass of the 5-block function.
const five_bytes = 5 * block_bytes;

/// "expand 32-byte k", little-endian words.
const sigma = V{ 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };

/// Rotations by 16 and 8 move whole bytes: one i8x16.shuffle instead of two shifts and
/// an or. The others are shifts.
inline fn rotl(v: V, comptime n: comptime_int) V {
    const b: Bytes = @bitCast(v);
    return switch (n) {
        16 => @bitCast(@shuffle(u8, b, undefined, [16]i32{ 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13 })),
        8 => @bitCast(@shuffle(u8, b, undefined, [16]i32{ 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14 })),
        else => (v << @splat(@as(u5, n))) | (v >> @splat(@as(u5, 32 - n))),
    };
}

inline fn load(p: [*]const u8) V {
    return @as(*align(1) const V, @ptrCast(p)).*;
}

inline fn store(p: [*]u8, v: V) void {
    @as(*align(1) V, @ptrCast(p)).* = v;
}

/// The key as eight little-endian words.
pub fn keyWords(key: *const [32]u8) [8]u32 {
    var k: [8]u32 = undefined;
    for (&k, 0..) |*w, i| w.* = std.mem.readInt(u32, key[4 * i ..][0..4], .little);
    return k;
}

/// The IETF nonce as three little-endian words.
pub fn nonceWords(nonce: *const [12]u8) [3]u32 {
    return .{
        std.mem.readInt(u32, nonce[0..4], .little),
        std.mem.readInt(u32, nonce[4..8], .little),
        std.mem.readInt(u32, nonce[8..12], .little),
    };
}

// ---- four blocks, vertical layout -------------------------------------------------

/// The state of blocks counter .. counter+3 (the counter wraps modulo 2^32 per lane;
/// callers never use a block past 2^32-1).
pub fn wideState(key: *const [8]u32, nonce: [3]u32, counter: u32) [16]V {
    var s: [16]V = undefined;
    for (0..4) |i| s[i] = @splat(sigma[i]);
    for (0..8) |i| s[4 + i] = @splat(key[i]);
    s[12] = @as(V, @splat(counter)) +% V{ 0, 1, 2, 3 };
    for (0..3) |i| s[13 + i] = @splat(nonce[i]);
    return s;
}

/// One step (a quarter of a quarter round) of the four quarter rounds `q`, interleaved.
inline fn step(x: *[16]V, comptime q: [4][4]usize, comptime a: usize, comptime b: usize, comptime d: usize, comptime n: comptime_int) void {
    inline for (q) |i| {
        x[i[a]] +%= x[i[b]];
        x[i[d]] = rotl(x[i[d]] ^ x[i[a]], n);
    }
}

inline fn wideRound(x: *[16]V, comptime q: [4][4]usize) void {
    step(x, q, 0, 1, 3, 16);
    step(x, q, 2, 3, 1, 12);
    step(x, q, 0, 1, 3, 8);
    step(x, q, 2, 3, 1, 7);
}

const columns = [4][4]usize{ .{ 0, 4, 8, 12 }, .{ 1, 5, 9, 13 }, .{ 2, 6, 10, 14 }, .{ 3, 7, 11, 15 } };
const diagonals = [4][4]usize{ .{ 0, 5, 10, 15 }, .{ 1, 6, 11, 12 }, .{ 2, 7, 8, 13 }, .{ 3, 4, 9, 14 } };

/// Four keystream blocks of `s`, still in the vertical layout. `side.step()` runs twice
/// per double round (see `NoSide`).
inline fn wideBlocks(s: *const [16]V, side: anytype) [16]V {
    var x = s.*;
    for (0..10) |_| {
        wideRound(&x, columns);
        side.step();
        wideRound(&x, diagonals);
        side.step();
    }
    for (&x, s) |*w, i| w.* +%= i;
    return x;
}

/// Transposes the vertical blocks `x` into four consecutive 64-byte blocks and writes
/// them xored with `src[0..256]` to `dst[0..256]`.
inline fn emitWide(dst: [*]u8, src: [*]const u8, x: *const [16]V) void {
    const lo = [4]i32{ 0, ~@as(i32, 0), 1, ~@as(i32, 1) };
    const hi = [4]i32{ 2, ~@as(i32, 2), 3, ~@as(i32, 3) };
    const lo2 = [4]i32{ 0, 1, ~@as(i32, 0), ~@as(i32, 1) };
    const hi2 = [4]i32{ 2, 3, ~@as(i32, 2), ~@as(i32, 3) };
    inline for (0..4) |g| {
        const t0 = @shuffle(u32, x[4 * g], x[4 * g + 1], lo);
        const t1 = @shuffle(u32, x[4 * g + 2], x[4 * g + 3], lo);
        const t2 = @shuffle(u32, x[4 * g], x[4 * g + 1], hi);
        const t3 = @shuffle(u32, x[4 * g + 2], x[4 * g + 3], hi);
        const rows = [4]V{
            @shuffle(u32, t0, t1, lo2),
            @shuffle(u32, t0, t1, hi2),
            @shuffle(u32, t2, t3, lo2),
            @shuffle(u32, t2, t3, hi2),
        };
        inline for (0..4) |k| {
            const at = block_bytes * k + 16 * g;
            store(dst + at, load(src + at) ^ rows[k]);
        }
    }
}

/// `dst[0..256] = src[0..256] ^` blocks counter .. counter+3 of `s`; advances the counter by 4.
noinline fn passFour(comptime Side: type, side: *Side, dst: [*]u8, src: [*]const u8, s: *[16]V) void {
    // A local copy, so that the side's state stays in registers through the rounds.
    var local = side.*;
    const x = wideBlocks(s, &local);
    side.* = local;
    emitWide(dst, src, &x);
    s[12] +%= @splat(4);
}

/// The keystream of blocks counter .. counter+3 of `s` into `out`; advances the counter.
pub fn wideKeystream(out: *[wide_bytes]u8, s: *[16]V) void {
    @memset(out, 0);
    var none: NoSide = .{};
    passFour(NoSide, &none, out, out, s);
}

// ---- four blocks and one more ----------------------------------------------------

inline fn rowStep(a: *V, b: *V, d: *V, comptime n: comptime_int) void {
    a.* +%= b.*;
    d.* = rotl(d.* ^ a.*, n);
}

/// Blocks counter .. counter+3 of `s` (vertical, into `x`) and block counter+4 (rows,
/// into `y`) in one round loop. A single block in rows is one long chain of dependent
/// operations; interleaved with the four independent quarter rounds of the vertical
/// blocks, it mostly fills cycles that would otherwise wait.
inline fn fiveBlocks(s: *const [16]V, x: *[16]V, y: *[4]V, side: anytype) void {
    const r = [4]V{
        sigma,
        V{ s[4][0], s[5][0], s[6][0], s[7][0] },
        V{ s[8][0], s[9][0], s[10][0], s[11][0] },
        V{ s[12][0] +% 4, s[13][0], s[14][0], s[15][0] },
    };
    x.* = s.*;
    var a = r[0];
    var b = r[1];
    var c = r[2];
    var d = r[3];
    for (0..10) |_| {
        inline for (.{ columns, diagonals }, 0..) |q, half| {
            step(x, q, 0, 1, 3, 16);
            rowStep(&a, &b, &d, 16);
            step(x, q, 2, 3, 1, 12);
            rowStep(&c, &d, &b, 12);
            step(x, q, 0, 1, 3, 8);
            rowStep(&a, &b, &d, 8);
            step(x, q, 2, 3, 1, 7);
            rowStep(&c, &d, &b, 7);
            side.step();
            if (half == 0) {
                b = @shuffle(u32, b, undefined, [4]i32{ 1, 2, 3, 0 });
                c = @shuffle(u32, c, undefined, [4]i32{ 2, 3, 0, 1 });
                d = @shuffle(u32, d, undefined, [4]i32{ 3, 0, 1, 2 });
            } else {
                b = @shuffle(u32, b, undefined, [4]i32{ 3, 0, 1, 2 });
                c = @shuffle(u32, c, undefined, [4]i32{ 2, 3, 0, 1 });
                d = @shuffle(u32, d, undefined, [4]i32{ 1, 2, 3, 0 });
            }
        }
    }
    for (x, s) |*w, i| w.* +%= i;
    y.* = .{ a +% r[0], b +% r[1], c +% r[2], d +% r[3] };
}

/// `dst[0..320] = src[0..320] ^` blocks counter .. counter+4 of `s`; advances the counter by 5.
noinline fn passFive(comptime Side: type, side: *Side, dst: [*]u8, src: [*]const u8, s: *[16]V) void {
    var x: [16]V = undefined;
    var y: [4]V = undefined;
    var local = side.*;
    fiveBlocks(s, &x, &y, &local);
    side.* = local;
    emitWide(dst, src, &x);
    for (0..4) |i| {
        const at = wide_bytes + 16 * i;
        store(dst + at, load(src + at) ^ y[i]);
    }
    s[12] +%= @splat(5);
}

// ---- one block, rows as vectors ---------------------------------------------------

inline fn rowRound(a: *V, b: *V, c: *V, d: *V) void {
    a.* +%= b.*;
    d.* = rotl(d.* ^ a.*, 16);
    c.* +%= d.*;
    b.* = rotl(b.* ^ c.*, 12);
    a.* +%= b.*;
    d.* = rotl(d.* ^ a.*, 8);
    c.* +%= d.*;
    b.* = rotl(b.* ^ c.*, 7);
}

/// The 20 rounds of one block on rows `r`, without the final addition of the input.
inline fn rowRounds(r: [4]V, side: anytype) [4]V {
    var a = r[0];
    var b = r[1];
    var c = r[2];
    var d = r[3];
    for (0..10) |_| {
        rowRound(&a, &b, &c, &d);
        side.step();
        // Diagonals into columns: lane i of b, c, d moves to lane i-1, i-2, i-3.
        b = @shuffle(u32, b, undefined, [4]i32{ 1, 2, 3, 0 });
        c = @shuffle(u32, c, undefined, [4]i32{ 2, 3, 0, 1 });
        d = @shuffle(u32, d, undefined, [4]i32{ 3, 0, 1, 2 });
        rowRound(&a, &b, &c, &d);
        side.step();
        b = @shuffle(u32, b, undefined, [4]i32{ 3, 0, 1, 2 });
        c = @shuffle(u32, c, undefined, [4]i32{ 2, 3, 0, 1 });
        d = @shuffle(u32, d, undefined, [4]i32{ 1, 2, 3, 0 });
    }
    return .{ a, b, c, d };
}

fn rowState(key: *const [8]u32, d: V) [4]V {
    return .{
        sigma,
        V{ key[0], key[1], key[2], key[3] },
        V{ key[4], key[5], key[6], key[7] },
        d,
    };
}

/// `buf ^=` the keystream block at `counter`. With a side, in vector rows (the side's
/// scalar work fills the gaps of the rows' dependency chain); without, scalar (see
/// `scalarRounds`).
noinline fn block(comptime Side: type, side: *Side, buf: *[block_bytes]u8, key: *const [8]u32, nonce: [3]u32, counter: u32) void {
    const p: [*]u8 = buf;
    if (Side == NoSide) {
        var x = scalarState(key, .{ counter, nonce[0], nonce[1], nonce[2] });
        const init = x;
        scalarRounds(&x);
        for (0..16) |i| {
            const w = std.mem.readInt(u32, buf[4 * i ..][0..4], .little) ^ (x[i] +% init[i]);
            std.mem.writeInt(u32, buf[4 * i ..][0..4], w, .little);
        }
        std.crypto.secureZero(u32, &x);
        return;
    }
    const s = rowState(key, V{ counter, nonce[0], nonce[1], nonce[2] });
    var local = side.*;
    const x = rowRounds(s, &local);
    side.* = local;
    for (0..4) |i| store(p + 16 * i, load(p + 16 * i) ^ (x[i] +% s[i]));
}

// ---- one block, scalar ------------------------------------------------------------

fn scalarState(key: *const [8]u32, d: [4]u32) [16]u32 {
    var x: [16]u32 = undefined;
    for (0..4) |i| x[i] = sigma[i];
    for (0..8) |i| x[4 + i] = key[i];
    for (0..4) |i| x[12 + i] = d[i];
    return x;
}

/// The 20 rounds of one block in scalar code. A lone block in vectors is one chain of
/// dependent operations, and wasm's scalar i32.rotl is one instruction where a vector
/// rotation takes up to three, so the four independent quarter rounds in scalar
/// registers finish first (~2x).
inline fn scalarRounds(x: *[16]u32) void {
    for (0..10) |_| {
        inline for (.{ columns, diagonals }) |q| {
            scalarStep(x, q, 0, 1, 3, 16);
            scalarStep(x, q, 2, 3, 1, 12);
            scalarStep(x, q, 0, 1, 3, 8);
            scalarStep(x, q, 2, 3, 1, 7);
        }
    }
}

inline fn scalarStep(x: *[16]u32, comptime q: [4][4]usize, comptime a: usize, comptime b: usize, comptime d: usize, comptime n: comptime_int) void {
    inline for (q) |i| {
        x[i[a]] +%= x[i[b]];
        x[i[d]] = std.math.rotl(u32, x[i[d]] ^ x[i[a]], n);
    }
}

/// HChaCha20: the subkey (as words) for `key` and the first 16 bytes of an XChaCha20
/// nonce: words 0..3 and 12..15 of the state after 20 rounds, with no feedback.
pub fn hchacha20(key: *const [8]u32, nonce16: *const [16]u8) [8]u32 {
    var d: [4]u32 = undefined;
    for (0..4) |i| d[i] = std.mem.readInt(u32, nonce16[4 * i ..][0..4], .little);
    var x = scalarState(key, d);
    scalarRounds(&x);
    const out = [8]u32{ x[0], x[1], x[2], x[3], x[12], x[13], x[14], x[15] };
    std.crypto.secureZero(u32, &x);
    return out;
}

// ---- the stream cipher ------------------------------------------------------------

/// The plain stream cipher's side: nothing. A side is other work (the AEAD's Poly1305 of
/// the ciphertext written by the previous pass) done inside the ChaCha rounds: its
/// scalar multiplications and the rounds' vector operations are independent, so a
/// superscalar CPU runs them side by side. `step()` is called twice per double round;
/// `queue(bytes)` hands over each piece of output once it is written.
pub const NoSide = struct {
    pub inline fn step(_: *NoSide) void {}
    pub inline fn queue(_: *NoSide, _: []const u8) void {}
};

/// ChaCha20 (RFC 8439 section 2.4): `dst = src ^ keystream(key, nonce, counter ..)`.
/// `dst` and `src` have the same length and are either the same bytes or disjoint. The
/// caller makes sure the last block's counter does not pass 2^32-1.
pub fn xor(dst: []u8, src: []const u8, key: *const [8]u32, nonce: [3]u32, counter: u32) void {
    var none: NoSide = .{};
    xorWith(NoSide, &none, dst, src, key, nonce, counter);
}

/// `xor`, handing each piece of `dst` to `side.queue` once written and running
/// `side.step` inside the rounds.
///
/// A 5-block pass costs little more than a 4-block one, and a lone block almost as much
/// as either (it is latency-bound), so the blocks are split into 5- and 4-block passes
/// that cover them exactly where possible: 5a + 4b = n for every n >= 12.
pub fn xorWith(comptime Side: type, side: *Side, dst: []u8, src: []const u8, key: *const [8]u32, nonce: [3]u32, counter: u32) void {
    std.debug.assert(dst.len == src.len);
    if (src.len == 0) return;
    var s = wideState(key, nonce, counter);
    const blocks = (src.len + block_bytes - 1) / block_bytes;
    var fives = blocks % 4;
    if (5 * fives > blocks) fives = 0;
    var i: usize = 0;
    while (true) : (fives -|= 1) {
        const rest = src.len - i;
        const pass: usize = if (fives > 0) five_bytes else if (blocks == 1) block_bytes else wide_bytes;
        if (rest < pass or pass == block_bytes) {
            // The last, partial pass (or a lone block) goes through a buffer, xored in place.
            var pad: [five_bytes]u8 align(16) = @splat(0);
            @memcpy(pad[0..rest], src[i..]);
            if (pass == five_bytes) {
                passFive(Side, side, &pad, &pad, &s);
            } else if (pass == wide_bytes) {
                passFour(Side, side, &pad, &pad, &s);
            } else {
                block(Side, side, pad[0..block_bytes], key, nonce, s[12][0]);
            }
            @memcpy(dst[i..], pad[0..rest]);
            std.crypto.secureZero(u8, &pad);
            side.queue(dst[i..]);
            break;
        }
        if (pass == five_bytes) {
            passFive(Side, side, dst.ptr + i, src.ptr + i, &s);
        } else {
            passFour(Side, side, dst.ptr + i, src.ptr + i, &s);
        }
        side.queue(dst[i..][0..pass]);
        i += pass;
        if (i == src.len) break;
    }
    std.crypto.secureZero(V, &s);
}
