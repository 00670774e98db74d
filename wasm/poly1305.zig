//! Poly1305 (RFC 8439 section 2.5) in radix 2^26 (five 26-bit limbs, as poly1305-donna-32).
//!
//! Zig std's Poly1305 works in 64-bit limbs with 64x64->128-bit products; wasm has no
//! such multiply, so each of its six products per block becomes a compiler-rt call.
//! Here a block costs 25 32x32->64-bit products, each a single i64.mul. The interface is
//! the subset of std's that the AEAD needs (init, update, pad, final, create), with the
//! same semantics, plus `Side`, which absorbs blocks inside ChaCha20's rounds.

const std = @import("std");

const block_length = 16;
const mask26: u32 = 0x3ffffff;

inline fn le32(b: *const [4]u8) u32 {
    return std.mem.readInt(u32, b, .little);
}

/// h = (h + block) * r mod 2^130-5, partially reduced. `hibit` is 1 << 24 for a full
/// block (the 2^128 bit) and 0 for a 0x01-terminated partial one.
inline fn absorb(h: *[5]u32, r: *const [5]u32, s: *const [4]u32, b: *const [16]u8, hibit: u32) void {
    const h0 = h[0] +% (le32(b[0..4]) & mask26);
    const h1 = h[1] +% ((le32(b[3..7]) >> 2) & mask26);
    const h2 = h[2] +% ((le32(b[6..10]) >> 4) & mask26);
    const h3 = h[3] +% ((le32(b[9..13]) >> 6) & mask26);
    const h4 = h[4] +% ((le32(b[12..16]) >> 8) | hibit);
    const x0: u64 = h0;
    const x1: u64 = h1;
    const x2: u64 = h2;
    const x3: u64 = h3;
    const x4: u64 = h4;
    const r0: u64 = r[0];
    const r1: u64 = r[1];
    const r2: u64 = r[2];
    const r3: u64 = r[3];
    const r4: u64 = r[4];
    const s1: u64 = s[0];
    const s2: u64 = s[1];
    const s3: u64 = s[2];
    const s4: u64 = s[3];
    const d0 = x0 * r0 + x1 * s4 + x2 * s3 + x3 * s2 + x4 * s1;
    var d1 = x0 * r1 + x1 * r0 + x2 * s4 + x3 * s3 + x4 * s2;
    var d2 = x0 * r2 + x1 * r1 + x2 * r0 + x3 * s4 + x4 * s3;
    var d3 = x0 * r3 + x1 * r2 + x2 * r1 + x3 * r0 + x4 * s4;
    var d4 = x0 * r4 + x1 * r3 + x2 * r2 + x3 * r1 + x4 * r0;
    d1 += d0 >> 26;
    d2 += d1 >> 26;
    d3 += d2 >> 26;
    d4 += d3 >> 26;
    const c: u32 = @truncate(d4 >> 26);
    var n0 = (@as(u32, @truncate(d0)) & mask26) + c * 5;
    const n1 = (@as(u32, @truncate(d1)) & mask26) + (n0 >> 26);
    n0 &= mask26;
    h.* = .{ n0, n1, @as(u32, @truncate(d2)) & mask26, @as(u32, @truncate(d3)) & mask26, @as(u32, @truncate(d4)) & mask26 };
}

pub const Poly1305 = struct {
    pub const key_length = 32;
    pub const mac_length = 16;

    /// r, clamped, in five 26-bit limbs, and 5 * r[1..5] (for the reduction mod 2^130-5).
    r: [5]u32,
    s: [4]u32,
    /// The accumulator, partially reduced (limbs may exceed 26 bits slightly).
    h: [5]u32 = .{ 0, 0, 0, 0, 0 },
    /// The second half of the key, added at the end.
    end_pad: [4]u32,
    leftover: usize = 0,
    buf: [block_length]u8 = undefined,

    pub fn init(key: *const [key_length]u8) Poly1305 {
        const r0 = le32(key[0..4]) & 0x3ffffff;
        const r1 = (le32(key[3..7]) >> 2) & 0x3ffff03;
        const r2 = (le32(key[6..10]) >> 4) & 0x3ffc0ff;
        const r3 = (le32(key[9..13]) >> 6) & 0x3f03fff;
        const r4 = (le32(key[12..16]) >> 8) & 0x00fffff;
        return .{
            .r = .{ r0, r1, r2, r3, r4 },
            .s = .{ r1 * 5, r2 * 5, r3 * 5, r4 * 5 },
            .end_pad = .{ le32(key[16..20]), le32(key[20..24]), le32(key[24..28]), le32(key[28..32]) },
        };
    }

    /// Absorbs whole 16-byte blocks of `m`; `hibit` is 1 << 24 for full blocks and 0 for
    /// the final, already 0x01-terminated, partial one.
    fn blocks(st: *Poly1305, m: []const u8, hibit: u32) void {
        var h = st.h;
        const r = st.r;
        const s = st.s;
        var i: usize = 0;
        while (m.len - i >= block_length) : (i += block_length) absorb(&h, &r, &s, m[i..][0..block_length], hibit);
        st.h = h;
    }

    /// Poly1305 as a side of `chacha.xorWith`: the ciphertext the stream cipher has
    /// written is absorbed one block per `step`, inside the rounds of its next pass.
    pub const Side = struct {
        h: [5]u32,
        r: [5]u32,
        s: [4]u32,
        next: [*]const u8,
        left: usize,
        tail: []const u8,

        /// Takes over `mac`'s accumulator; `mac` must have no partial block pending.
        pub fn begin(mac: *const Poly1305) Side {
            std.debug.assert(mac.leftover == 0);
            return .{ .h = mac.h, .r = mac.r, .s = mac.s, .next = undefined, .left = 0, .tail = &.{} };
        }

        pub inline fn step(side: *Side) void {
            if (side.left == 0) return;
            absorb(&side.h, &side.r, &side.s, side.next[0..block_length], 1 << 24);
            side.next += block_length;
            side.left -= 1;
        }

        /// Queues `data`, absorbing first whatever is left of the previous queue (a pass
        /// steps 20 times and queues at most 20 blocks, so normally nothing). Only the
        /// last piece may end in a partial block.
        pub fn queue(side: *Side, data: []const u8) void {
            std.debug.assert(side.tail.len == 0);
            while (side.left > 0) side.step();
            side.next = data.ptr;
            side.left = data.len / block_length;
            side.tail = data[side.left * block_length ..];
        }

        /// Absorbs the rest and hands the accumulator back to `mac`; zeroes the side.
        pub fn end(side: *Side, mac: *Poly1305) void {
            while (side.left > 0) side.step();
            mac.h = side.h;
            mac.update(side.tail);
            std.crypto.secureZero(u8, std.mem.asBytes(side));
        }
    };

    pub fn update(st: *Poly1305, m: []const u8) void {
        var rest = m;
        if (st.leftover > 0) {
            const want = @min(block_length - st.leftover, rest.len);
            @memcpy(st.buf[st.leftover..][0..want], rest[0..want]);
            st.leftover += want;
            rest = rest[want..];
            if (st.leftover < block_length) return;
            st.blocks(&st.buf, 1 << 24);
            st.leftover = 0;
        }
        const whole = rest.len & ~@as(usize, block_length - 1);
        if (whole > 0) st.blocks(rest[0..whole], 1 << 24);
        rest = rest[whole..];
        @memcpy(st.buf[0..rest.len], rest);
        st.leftover = rest.len;
    }

    /// Zero-pads a pending partial block to 16 bytes and absorbs it as a full block.
    pub fn pad(st: *Poly1305) void {
        if (st.leftover == 0) return;
        @memset(st.buf[st.leftover..], 0);
        st.blocks(&st.buf, 1 << 24);
        st.leftover = 0;
    }

    /// Writes the tag and zeroes the state.
    pub fn final(st: *Poly1305, out: *[mac_length]u8) void {
        if (st.leftover > 0) {
            st.buf[st.leftover] = 1;
            @memset(st.buf[st.leftover + 1 ..], 0);
            st.blocks(&st.buf, 0);
        }
        var h0 = st.h[0];
        var h1 = st.h[1];
        var h2 = st.h[2];
        var h3 = st.h[3];
        var h4 = st.h[4];

        // Carry fully.
        var c = h1 >> 26;
        h1 &= mask26;
        h2 += c;
        c = h2 >> 26;
        h2 &= mask26;
        h3 += c;
        c = h3 >> 26;
        h3 &= mask26;
        h4 += c;
        c = h4 >> 26;
        h4 &= mask26;
        h0 += c * 5;
        c = h0 >> 26;
        h0 &= mask26;
        h1 += c;

        // g = h + 5 - 2^130; h = g when that is not negative (h >= p), in constant time.
        var g0 = h0 + 5;
        c = g0 >> 26;
        g0 &= mask26;
        var g1 = h1 + c;
        c = g1 >> 26;
        g1 &= mask26;
        var g2 = h2 + c;
        c = g2 >> 26;
        g2 &= mask26;
        var g3 = h3 + c;
        c = g3 >> 26;
        g3 &= mask26;
        var g4 = h4 +% c -% (1 << 26);
        const keep_g = (g4 >> 31) -% 1; // all ones when g4 did not go negative
        g0 &= keep_g;
        g1 &= keep_g;
        g2 &= keep_g;
        g3 &= keep_g;
        g4 &= keep_g;
        h0 = (h0 & ~keep_g) | g0;
        h1 = (h1 & ~keep_g) | g1;
        h2 = (h2 & ~keep_g) | g2;
        h3 = (h3 & ~keep_g) | g3;
        h4 = (h4 & ~keep_g) | g4;

        // h mod 2^128 in 32-bit words, plus the pad, mod 2^128.
        const w = [4]u32{
            h0 | (h1 << 26),
            (h1 >> 6) | (h2 << 20),
            (h2 >> 12) | (h3 << 14),
            (h3 >> 18) | (h4 << 8),
        };
        var f: u64 = 0;
        for (0..4) |i| {
            f = @as(u64, w[i]) + st.end_pad[i] + (f >> 32);
            std.mem.writeInt(u32, out[4 * i ..][0..4], @truncate(f), .little);
        }
        std.crypto.secureZero(u8, std.mem.asBytes(st));
    }

    pub fn create(out: *[mac_length]u8, msg: []const u8, key: *const [key_length]u8) void {
        var st = Poly1305.init(key);
        st.update(msg);
        st.final(out);
    }
};
