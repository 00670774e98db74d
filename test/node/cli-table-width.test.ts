// The CLI's tables line up in a terminal when a cell holds characters a terminal draws two
// columns wide (a tenant named in Japanese, an emoji) or none (a combining accent): `tenants
// list` padded by UTF-16 code units, so a row named "日本語テスト株式会社" pushed its PLAN,
// STATUS and CREATED ten columns right of the header's.
import { describe, expect, it } from "vitest";
import { jsonServing, plinth } from "./plinth-cli";

const tenant = (id: string, name: string) => ({
  id,
  slug: id.toLowerCase(),
  name,
  plan: "free",
  status: "active",
  created_at: "2026-12-06T22:49:28.557Z",
  suspended_at: null,
  suspended_reason: null,
  version: 1,
  deleted_at: null,
  erasure_done: [],
});
const served = jsonServing(() => ({
  items: [
    tenant("ASCII", "Demo tenant"),
    tenant("WIDE", "日本語テスト株式会社"),
    tenant("EMOJI", "Rocket 🚀 Ltd"),
    tenant("COMBINING", "Cafe\u0301 Ltd"),
  ],
  next_cursor: null,
}));

/** The terminal columns `text` takes, for the characters this test uses: CJK and 🚀 two, U+0301 none. */
const columns = (text: string) =>
  [...text].reduce((n, c) => n + (/[\u3000-\u9fff]|\u{1f680}/u.test(c) ? 2 : c === "\u0301" ? 0 : 1), 0);

describe("tables", () => {
  it("start each column at the same terminal column on every line, wide and combining characters included", async () => {
    const run = await plinth(["tenants", "list", "--url", served.url()], { PLATFORM_ROOT_KEY: "k".repeat(40) });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    // Where PLAN starts: after the NAME column, on the header and on each row.
    const planAt = lines.map((line) => columns(line.slice(0, line.search(/ {2}(PLAN|free) /))));
    expect(new Set(planAt).size, lines.join("\n")).toBe(1);
    const createdAt = lines.map((line) => columns(line.slice(0, line.search(/ {2}(CREATED|2026-)/))));
    expect(new Set(createdAt).size, lines.join("\n")).toBe(1);
  });
});
