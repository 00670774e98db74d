// `plinth new module --help` says what aggregate a module gets without --aggregate: it said "the
// name without a trailing s", and `plinth new module ledger` then wrote an aggregate `item` served
// at /api/v1/ledger/items, which nothing had announced.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultType } from "../../scripts/lib/scaffold.mjs";

const root = join(import.meta.dirname, "..", "..");

describe("plinth new module --help", () => {
  it("names the default aggregate of a name with no trailing s as the scaffold picks it", () => {
    const help = execFileSync(process.execPath, ["scripts/plinth.mjs", "new", "module", "--help"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(defaultType("ledger")).toBe("item");
    expect(help).toContain(`else ${defaultType("ledger")}`);
    expect(help).toContain(`/api/v1/ledger/${defaultType("ledger")}s`);
  });
});
