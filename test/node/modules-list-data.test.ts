// What `plinth modules list` says of each module's data: the tables whose rows the tenant's
// erasure deletes, whether it adds a part to a person's export, and the erasure steps it declares.
// docs/modules.md describes `tables` as "for plinth modules list", and `plinth tenants delete`
// sends the operator to it for "the data of every other registered module: its Durable Objects,
// tables and aggregates"; it printed no table, export part or erasure at all.
import { describe, expect, it } from "vitest";
import { plinth } from "./plinth-cli";

/** The lines of one module's entry in the listing. */
const entryOf = (stdout: string, name: string) => {
  const start = stdout.indexOf(`\n${name} `);
  const next = stdout.slice(start + 1).search(/\n[a-z]/);
  return stdout.slice(start, next === -1 ? undefined : start + 1 + next);
};

describe("plinth modules list, each module's data", () => {
  it("names its tables, its part of the export and its erasure steps", async () => {
    const run = await plinth(["modules", "list"]);
    expect(run.status, run.stderr).toBe(0);
    const blog = entryOf(run.stdout, "blog");
    expect(blog).toMatch(/\n {2}tables +blog_posts\n/);
    expect(blog).toMatch(/\n {2}personal +its part of \/me\/export and \/users\/\{id\}\/export\n/);
    expect(blog).not.toContain("erasure");
    const files = entryOf(run.stdout, "files");
    expect(files).toMatch(/\n {2}tables +files\n/);
    expect(files).toMatch(/\n {2}erasure +erase\n/);
    const identity = entryOf(run.stdout, "identity");
    expect(identity).toMatch(/\n {2}erasure +shred\b/);
    // Every kind it seals: those plinth crypto counts, and the sign-in state it never stores.
    expect(identity).toMatch(
      /\n {2}sealed +identity\.sso\.client_secret, identity\.totp, identity\.sso\.state \(transient\)\n/,
    );
    // A module that keeps no table and no personal part says nothing of them.
    const webhooks = entryOf(run.stdout, "webhooks");
    expect(webhooks).not.toMatch(/\n {2}(tables|personal) /);
  });

  it("--help names those lines", async () => {
    const run = await plinth(["modules", "list", "--help"]);
    expect(run.stdout.replace(/\n/g, " ")).toContain("tables, personal data, erasure");
  });
});
