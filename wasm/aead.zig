//! XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03) over the simd128 ChaCha20 of
//! chacha.zig and the radix-2^26 Poly1305 of poly1305.zig:
//!
//! - subkey = HChaCha20(key, nonce[0..16]);
//! - then AEAD_CHACHA20_POLY1305 (RFC 8439 section 2.8) with the subkey and the IETF
//!   nonce 0x00000000 || nonce[16..24]: the Poly1305 key is the first 32 bytes of
//!   block 0, the message is encrypted from block 1, and the tag is Poly1305 over
//!   AD || pad16 || ciphertext || pad16 || le64(AD length) || le64(ciphertext length).
//!
//! One 4-block pass at counter 0 gives the Poly1305 key (block 0) and the keystream of
//! the first 192 message bytes (blocks 1..3), so a short message costs one pass; the
//! rest is ordinary ChaCha20 from block 4.
//!
//! `seal` runs Poly1305 inside the ChaCha20 rounds: each pass absorbs the ciphertext
//! the previous pass wrote (`Poly1305.Side`), so the scalar multiplications overlap the
//! vector rounds. `open` authenticates first and decrypts only a message whose tag
//! matches (compared in constant time): when it does not, nothing is written to the
//! output. That order rules out the overlap, so `open` makes two passes.

const std = @import("std");
const chacha = @import("chacha.zig");

const Poly1305 = @import("poly1305.zig").Poly1305;

pub const key_length = 32;
pub const nonce_length = 24;
pub const tag_length = 16;

/// Bytes of message keystream in the first pass (blocks 1..3 of counter 0's pass).
const head_bytes = chacha.wide_bytes - chacha.block_bytes;

const Keys = struct {
    subkey: [8]u32,
    nonce: [3]u32,
    /// Block 0 (the Poly1305 key is its first 32 bytes), then blocks 1..3.
    head: [chacha.wide_bytes]u8 align(16),

    fn derive(key: *const [key_length]u8, nonce: *const [nonce_length]u8) Keys {
        var k: Keys = undefined;
        var key_words = chacha.keyWords(key);
        k.subkey = chacha.hchacha20(&key_words, nonce[0..16]);
        std.crypto.secureZero(u32, &key_words);
        k.nonce = .{
            0,
            std.mem.readInt(u32, nonce[16..20], .little),
            std.mem.readInt(u32, nonce[20..24], .little),
        };
        var s = chacha.wideState(&k.subkey, k.nonce, 0);
        chacha.wideKeystream(&k.head, &s);
        std.crypto.secureZero(chacha.V, &s);
        return k;
    }

    /// `dst = src ^ keystream from block 1`.
    fn crypt(k: *const Keys, dst: []u8, src: []const u8) void {
        const n = @min(src.len, head_bytes);
        for (dst[0..n], src[0..n], k.head[chacha.block_bytes..][0..n]) |*d, s, p| d.* = s ^ p;
        if (src.len > head_bytes) chacha.xor(dst[head_bytes..], src[head_bytes..], &k.subkey, k.nonce, 4);
    }

    fn tag(k: *const Keys, out: *[tag_length]u8, ad: []const u8, ct: []const u8) void {
        var mac = Poly1305.init(k.head[0..32]);
        mac.update(ad);
        mac.pad();
        mac.update(ct);
        finish(&mac, out, ad.len, ct.len);
    }

    fn wipe(k: *Keys) void {
        std.crypto.secureZero(u8, std.mem.asBytes(k));
    }
};

/// Encrypts `msg` into `ct` (same length) and writes the tag.
pub fn seal(ct: []u8, tag: *[tag_length]u8, msg: []const u8, ad: []const u8, key: *const [key_length]u8, nonce: *const [nonce_length]u8) void {
    var k = Keys.derive(key, nonce);
    defer k.wipe();
    var mac = Poly1305.init(k.head[0..32]);
    mac.update(ad);
    mac.pad();
    const n = @min(msg.len, head_bytes);
    for (ct[0..n], msg[0..n], k.head[chacha.block_bytes..][0..n]) |*d, s, p| d.* = s ^ p;
    var side = Poly1305.Side.begin(&mac);
    side.queue(ct[0..n]);
    if (msg.len > head_bytes) chacha.xorWith(Poly1305.Side, &side, ct[head_bytes..], msg[head_bytes..], &k.subkey, k.nonce, 4);
    side.end(&mac);
    finish(&mac, tag, ad.len, ct.len);
}

/// Pads, absorbs the lengths and writes the tag (zeroing the Poly1305 state).
fn finish(mac: *Poly1305, out: *[tag_length]u8, ad_len: usize, ct_len: usize) void {
    mac.pad();
    var lengths: [16]u8 = undefined;
    std.mem.writeInt(u64, lengths[0..8], ad_len, .little);
    std.mem.writeInt(u64, lengths[8..16], ct_len, .little);
    mac.update(&lengths);
    mac.final(out);
}

/// Checks `tag` over `ad` and `ct` in constant time, then decrypts `ct` into `msg`
/// (same length). Writes nothing when the tag does not match.
pub fn open(msg: []u8, ct: []const u8, tag: *const [tag_length]u8, ad: []const u8, key: *const [key_length]u8, nonce: *const [nonce_length]u8) error{AuthenticationFailed}!void {
    var k = Keys.derive(key, nonce);
    defer k.wipe();
    var expected: [tag_length]u8 = undefined;
    k.tag(&expected, ad, ct);
    const ok = std.crypto.timing_safe.eql([tag_length]u8, expected, tag.*);
    std.crypto.secureZero(u8, &expected);
    if (!ok) return error.AuthenticationFailed;
    k.crypt(msg, ct);
}
