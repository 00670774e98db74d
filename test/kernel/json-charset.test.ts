// JSON exchanged between systems is UTF-8 (RFC 8259 §8.1), and the Worker reads every JSON
// body as UTF-8 whatever charset its Content-Type names. A body declared in another charset
// was parsed as UTF-8 all the same: Latin-1 "Café" was stored as "Caf\uFFFD" with 201, UTF-16
// failed as malformed JSON (400). A JSON route now refuses such a declaration with 415 and says
// what it accepts; UTF-8 under any of its labels, or no charset, is read as before. Bytes
// sent as UTF-8 that are not (Latin-1 sent without a charset) were stored with U+FFFD too: 400.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { upload } from "../files/helpers";
import { expectProblem } from "../helpers";
import { newTenant, ORIGIN } from "../identity/helpers";

/** A new post whose JSON is `bytes`, sent as `type`. */
const post = (token: string, type: string, bytes: Uint8Array) =>
  SELF.fetch(`${ORIGIN}/api/v1/blog/posts`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body: bytes,
  });

const JSON_TEXT = JSON.stringify({ title: "Café", content: "crème brûlée" });
/** ISO-8859-1: one byte per character (all of these are below U+0100). */
const latin1 = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));
const utf16le = (text: string) => new Uint8Array(Uint16Array.from(text, (ch) => ch.charCodeAt(0)).buffer);
const utf8 = (text: string) => new TextEncoder().encode(text);

describe("JSON request bodies are UTF-8", () => {
  it("refuses a JSON body declared in another charset with 415 naming what is accepted, and stores nothing", async () => {
    const t = await newTenant("cs");
    for (const [type, bytes] of [
      ["application/json; charset=iso-8859-1", latin1(JSON_TEXT)],
      ["application/json;charset=windows-1252", latin1(JSON_TEXT)],
      ['application/json; charset="latin1"', latin1(JSON_TEXT)],
      ["application/json; charset=utf-16le", utf16le(JSON_TEXT)],
    ] as const) {
      const res = await post(t.adminKey, type, bytes);
      expect(res.headers.get("accept-post"), type).toBe("application/json");
      const problem = await expectProblem(res, 415, "unsupported_media_type");
      expect(problem.detail).toContain("UTF-8");
    }
    const list = await SELF.fetch(`${ORIGIN}/api/v1/blog/posts`, {
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(0);
  });

  it("reads UTF-8 under its labels, or with no charset, with every character intact", async () => {
    const t = await newTenant("cs");
    for (const type of [
      "application/json",
      "application/json; charset=utf-8",
      "application/json; charset=UTF-8",
      'application/json; charset="utf-8"',
      "application/json;charset=utf8",
    ]) {
      const res = await post(t.adminKey, type, utf8(JSON_TEXT));
      expect(res.status, type).toBe(201);
      expect(await res.json()).toMatchObject({ title: "Café", content: "crème brûlée" });
    }
  });

  it("reads a body declared US-ASCII, a subset of UTF-8, and holds a byte past 0x7F to UTF-8", async () => {
    const t = await newTenant("cs");
    const ascii = JSON.stringify({ title: "Cafe", content: "creme brulee" });
    for (const type of ["application/json; charset=us-ascii", 'application/json; charset="ASCII"']) {
      const res = await post(t.adminKey, type, utf8(ascii));
      expect(res.status, type).toBe(201);
      expect(await res.json()).toMatchObject({ title: "Cafe", content: "creme brulee" });
    }
    // Latin-1's "é" (0xE9) is no ASCII and no UTF-8: refused as bytes, not as a declaration.
    const bad = await post(t.adminKey, "application/json; charset=us-ascii", latin1(JSON_TEXT));
    await expectProblem(bad, 400, "validation_failed");
  });

  it("refuses a UTF-8 JSON body that is not valid UTF-8 with 400, and stores nothing", async () => {
    const t = await newTenant("cs");
    // Latin-1 bytes sent as UTF-8 (no charset, or charset=utf-8): 0xE9 starts no UTF-8 sequence here.
    for (const type of ["application/json", "application/json; charset=utf-8"]) {
      const res = await post(t.adminKey, type, latin1(JSON_TEXT));
      const problem = await expectProblem(res, 400, "validation_failed");
      expect(problem.errors, type).toEqual([{ path: "body", message: expect.stringContaining("UTF-8") }]);
    }
    // An overlong encoding of "/" (C0 AF) and a lone surrogate (ED A0 80) are not UTF-8 either.
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
    ]) {
      const bytes = Uint8Array.from([...utf8('{"title":"a'), ...bad, ...utf8('","content":"b"}')]);
      await expectProblem(await post(t.adminKey, "application/json", bytes), 400, "validation_failed");
    }
    const list = await SELF.fetch(`${ORIGIN}/api/v1/blog/posts`, {
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(0);
  });

  it("leaves a file upload's charset to the file: it is the file's type, not a JSON body to read", async () => {
    const t = await newTenant("cs");
    const res = await upload(t.adminKey, latin1(JSON_TEXT), { type: "application/json; charset=iso-8859-1" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
});
