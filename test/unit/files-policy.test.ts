import { describe, expect, it } from "vitest";
import { declaredSha256 } from "../../src/kernel/http/streamed-body";
import { askedRange, attachment, fileLimits, safeName, storedType, typedName } from "../../src/modules/files/policy";
import { signDownload, verifyDownload } from "../../src/modules/files/signing";

describe("askedRange (RFC 9110 single byte ranges)", () => {
  const size = 1000;
  it.each([
    ["bytes=0-99", { kind: "partial", offset: 0, length: 100 }],
    ["bytes=990-", { kind: "partial", offset: 990, length: 10 }],
    ["bytes=990-5000", { kind: "partial", offset: 990, length: 10 }],
    ["bytes=-10", { kind: "partial", offset: 990, length: 10 }],
    ["bytes=-5000", { kind: "partial", offset: 0, length: 1000 }],
    ["bytes=999-999", { kind: "partial", offset: 999, length: 1 }],
    ["bytes=1000-", { kind: "unsatisfiable" }],
    ["bytes=-0", { kind: "unsatisfiable" }],
    // Ignored, so the whole file: malformed, reversed, several ranges, another unit.
    ["bytes=5-1", { kind: "full" }],
    ["bytes=0-1,5-6", { kind: "full" }],
    ["items=0-1", { kind: "full" }],
    ["bytes=-", { kind: "full" }],
  ])("%s of 1000 bytes", (header, expected) => {
    expect(askedRange(header, size)).toEqual(expected);
  });
  it("finds no byte range in an empty file, but serves a non-empty suffix of it whole", () => {
    expect(askedRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
    expect(askedRange("bytes=-0", 0)).toEqual({ kind: "unsatisfiable" });
    // RFC 9110 §14.1.2: satisfiable, and all of it; a 206 cannot say "zero bytes".
    expect(askedRange("bytes=-1", 0)).toEqual({ kind: "full" });
    expect(askedRange(undefined, 0)).toEqual({ kind: "full" });
  });
});

describe("names and types", () => {
  it.each([
    ["report.pdf", "report.pdf"],
    ["../../etc/passwd", "passwd"],
    ["C:\\Users\\ada\\cv.docx", "cv.docx"],
    ["  ..hidden..  ", "hidden"],
    ["a\u0000b\u202ec\u200bd.txt", "abcd.txt"],
    ['what?<is>:"this"|*', "what__is___this___"],
    ["résumé.pdf", "résumé.pdf"],
    ["", "fallback"],
    ["...", "fallback"],
  ])("safeName(%j)", (raw, expected) => {
    expect(safeName(raw, "fallback")).toBe(expected);
  });
  it.each([
    // Emoji sequences hold together: ZWJ (family, ❤️‍🔥), variation selectors, a flag's tags.
    ["👨\u200D👩\u200D👧.png", "👨\u200D👩\u200D👧.png"],
    ["❤\uFE0F\u200D🔥 notes.txt", "❤\uFE0F\u200D🔥 notes.txt"],
    [
      "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} team.pdf",
      "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} team.pdf",
    ],
    // Scripts that join with them: Persian (ZWNJ), Devanagari (ZWJ after a virama).
    ["می\u200Cخواهم.txt", "می\u200Cخواهم.txt"],
    ["क्\u200Dष.txt", "क्\u200Dष.txt"],
    // Joining nothing, they go: at the edges, beside a blank or a dot, doubled (one joins), lone selectors.
    ["\u200Da\u200D b\u200C.txt", "a b.txt"],
    ["a\u200D\u200Db.txt", "a\u200Db.txt"],
    ["a\u200D.\u200Ctxt", "a.txt"],
    ["\uFE0Fa \uFE0Fb.txt", "a b.txt"],
    // Tag characters only as a flag's whole tag sequence: alone, or unterminated, they go.
    ["a\u{E0061}\u{E007F}b.txt", "ab.txt"],
    ["🏴\u{E0067}\u{E0062}.txt", "🏴.txt"],
    // Bidi controls (overrides, embeddings, isolates, marks) and other format characters still go.
    ["evil\u202E\u200Dgnp.exe", "evil\u200Dgnp.exe"],
    ["a\u2066b\u2069\u200E\u200F\u061C\u2060\u00ADc.txt", "abc.txt"],
  ])("safeName(%j) keeps what joins visible characters", (raw, expected) => {
    expect(safeName(raw, "fallback")).toBe(expected);
  });
  it("cuts a name to make room for its extension by whole emoji sequences, never inside one", () => {
    const family = "👨\u200D👩\u200D👧"; // 18 bytes: 14 are 252, and ".txt" needs 4
    expect(typedName(family.repeat(14), "text/plain")).toBe(`${family.repeat(13)}.txt`);
    const scotland = "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}"; // 28 bytes: 9 are 252
    expect(typedName(scotland.repeat(9), "text/plain")).toBe(`${scotland.repeat(8)}.txt`);
  });
  it("caps a name at 255 bytes of UTF-8, by whole characters", () => {
    expect(safeName("é".repeat(300), "f")).toBe("é".repeat(127));
    expect(safeName("😀".repeat(100), "f")).toBe("😀".repeat(63));
  });
  it.each([
    ["invoice.html", "text/plain; charset=utf-8", "invoice.html.txt"],
    ["logo.svg", "image/png", "logo.svg.png"],
    ["tar.tgz", "application/gzip", "tar.tgz"],
    ["deck.PPTX", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "deck.PPTX"],
    ["notes", "text/plain", "notes.txt"],
    ["café.exe", "application/pdf", "café.exe.pdf"],
    // A type the platform does not store (an object put by other means) keeps its name.
    ["raw.bin", "application/octet-stream", "raw.bin"],
  ])("typedName(%j, %j)", (name, type, expected) => {
    expect(typedName(name, type)).toBe(expected);
    // Applied again (as a download does) it changes nothing.
    expect(typedName(expected, type)).toBe(expected);
  });
  it("keeps a typed name within 255 bytes of UTF-8, its extension whole", () => {
    // 125 é are 250 bytes: with ".txt" 254, and a 126th (2 bytes) would pass 255.
    expect(typedName(`${"é".repeat(200)}.html`, "text/plain")).toBe(`${"é".repeat(125)}.txt`);
    // A longer name that already ends in its type's extension keeps it (a name stored before the rule).
    expect(typedName(`${"😀".repeat(100)}.pdf`, "application/pdf")).toBe(`${"😀".repeat(62)}.pdf`);
    // A type the platform does not store: its own extension kept, or the name cut whole.
    expect(typedName(`${"a".repeat(300)}.bin`, "application/octet-stream")).toBe(`${"a".repeat(251)}.bin`);
    expect(typedName(`a.${"b".repeat(300)}`, "application/octet-stream")).toBe(`a.${"b".repeat(253)}`);
  });
  it("offers the exact name beside an ASCII one", () => {
    expect(attachment("résumé (1).pdf")).toBe(
      `attachment; filename="r_sum_ (1).pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%281%29.pdf`,
    );
  });
  it.each([
    ["image/PNG", "image/png"],
    ["text/plain; charset=UTF-8", "text/plain; charset=utf-8"],
    ['text/csv; charset="latin1"; header=present', "text/csv; charset=latin1"],
    ["application/pdf; charset=utf-8", "application/pdf"],
    ["text/html", null],
    ["image/svg+xml", null],
    [undefined, null],
  ])("storedType(%j)", (header, expected) => {
    expect(storedType(header)).toBe(expected);
  });
  it("reads the deployment's limits, refusing a bad one by name", () => {
    expect(fileLimits({})).toEqual({ maxFileBytes: 50 * 1024 * 1024, quotaBytes: 1024 ** 3 });
    expect(fileLimits({ FILES_MAX_BYTES: "10", FILES_QUOTA_BYTES: "20" })).toEqual({
      maxFileBytes: 10,
      quotaBytes: 20,
    });
    expect(() => fileLimits({ FILES_MAX_BYTES: "ten" })).toThrow(/FILES_MAX_BYTES/);
  });
});

describe("Content-Digest", () => {
  const empty = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  it("takes the sha-256 member, alone or among others", () => {
    expect(declaredSha256(`sha-256=:${empty}:`)?.length).toBe(32);
    expect(declaredSha256(`sha-512=:abc=:, sha-256=:${empty}:`)?.[0]).toBe(0xe3);
    expect(declaredSha256(undefined)).toBeNull();
    // A Dictionary member may carry parameters (RFC 9530 on RFC 9651): the digest is still read.
    expect(declaredSha256(`sha-256=:${empty}:;note="x"`)?.[0]).toBe(0xe3);
    // Declared, but nothing plinth can check: refused rather than stored unverified.
    expect(() => declaredSha256("sha-512=:abc=:")).toThrow(/Content-Digest/);
    expect(() => declaredSha256("garbage")).toThrow(/Content-Digest/);
  });
  it("refuses a malformed sha-256 member", () => {
    expect(() => declaredSha256("sha-256=:short:")).toThrow(/Content-Digest/);
    expect(() => declaredSha256(`sha-256=${empty}`)).toThrow(/Content-Digest/);
  });
});

describe("signed download URLs", () => {
  // 32-byte keys, base64url: the last of 43 characters carries 4 bits, so A, E, I, M…
  const key = (v: number) => ({ version: v, key: "A".repeat(42) + "AEIMQ".charAt(v) });
  const masters = JSON.stringify([key(2), key(1)]);

  it("verify for their tenant, file and expiry only, with any listed key version", async () => {
    const q = await signDownload(masters, "t1", "F1", 2_000);
    expect(q.kv).toBe(2);
    // Until the instant exp names, to the millisecond; from it on, expired.
    const at = (s: number) => new Date(s * 1000);
    expect(await verifyDownload(masters, "F1", q, at(1_000))).toBe("ok");
    expect(await verifyDownload(masters, "F1", q, at(1_999.999))).toBe("ok");
    expect(await verifyDownload(masters, "F1", q, at(2_000))).toBe("expired");
    expect(await verifyDownload(masters, "F1", q, at(2_000.5))).toBe("expired");
    expect(await verifyDownload(masters, "F2", q, at(1_000))).toBe("invalid");
    expect(await verifyDownload(masters, "F1", { ...q, tenant: "t2" }, at(1_000))).toBe("invalid");
    expect(await verifyDownload(masters, "F1", { ...q, exp: 3_000 }, at(1_000))).toBe("invalid");
    expect(await verifyDownload(masters, "F1", { ...q, kv: 1 }, at(1_000))).toBe("invalid");
    expect(await verifyDownload(masters, "F1", { ...q, kv: 9 }, at(1_000))).toBe("invalid");
    // An expired and altered URL says only that it is invalid.
    expect(await verifyDownload(masters, "F1", { ...q, exp: 1 }, at(1_000))).toBe("invalid");
    // After a rotation (a new key first), the old URL still verifies while its key is listed.
    const rotated = JSON.stringify([key(3), key(2)]);
    expect(await verifyDownload(rotated, "F1", q, at(1_000))).toBe("ok");
    expect(await verifyDownload(JSON.stringify([key(3)]), "F1", q, at(1_000))).toBe("invalid");
  });
});
