import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, describe, expect, it } from "vitest";
import { migrateD1Quietly, migrateLibsql } from "../../scripts/lib/db-migrate.mjs";
import { MIGRATIONS } from "../../src/generated/migrations";
import { dbCli } from "./db-cli";
import { startHranaServer } from "./support/hrana-server";

const ROOT = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "plinth-db-migrate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI; its exit code and output. */
const plinth = (args: string[], env: Record<string, string> = {}) => dbCli(ROOT, args, env);

async function tables(url: string): Promise<string[]> {
  const client = createClient({ url });
  try {
    const rows = (await client.execute("select name from sqlite_master where type = 'table' order by name")).rows;
    return rows.map((r) => String(r.name));
  } finally {
    client.close();
  }
}

describe("npx plinth db migrate", () => {
  it("applies every migration to the local D1 and to the libSQL file, then finds nothing pending", async () => {
    const url = `file:${path.join(dir, "read-models.db")}`;
    const persist = path.join(dir, "d1");
    const first = await plinth(["db", "migrate", "--persist-to", persist], { READ_MODEL_URL: url });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("applying local D1 migrations");
    expect(first.stdout).toContain(MIGRATIONS.at(-1));
    expect(first.stdout).toContain(`libSQL: ${MIGRATIONS.length} applied, ${MIGRATIONS.length} in all`);
    expect(await tables(url)).toEqual(
      expect.arrayContaining(["blog_posts", "processed_events", "event_streams", "files"]),
    );

    const again = await plinth(["db", "migrate", "--persist-to", persist], { READ_MODEL_URL: url });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("No migrations to apply");
    expect(again.stdout).toContain(`libSQL: 0 applied, ${MIGRATIONS.length} in all`);
  });

  it("applies D1 quietly for npm start: the names applied, then none, and wrangler's output kept for a failure", async () => {
    const persist = path.join(dir, "d1-quiet");
    const first = await migrateD1Quietly({ persistTo: persist });
    expect(first.code, first.output).toBe(0);
    expect(first.applied).toEqual([...MIGRATIONS]);
    const again = await migrateD1Quietly({ persistTo: persist });
    expect({ code: again.code, applied: again.applied }).toEqual({ code: 0, applied: [] });
    expect(again.output).toContain("No migrations to apply");
    const failed = await migrateD1Quietly({ persistTo: persist, env: "nowhere" });
    expect(failed.code).not.toBe(0);
    expect(failed.output).toContain('"nowhere"');
  });

  it("migrates only libSQL when asked, and refuses --only libsql without READ_MODEL_URL (exit 2)", async () => {
    const url = `file:${path.join(dir, "only.db")}`;
    const only = await plinth(["db", "migrate", "--only", "libsql"], { READ_MODEL_URL: url });
    expect(only.code, only.stderr).toBe(0);
    // Its line for D1 ("applying local D1 migrations"), not the letters: a temporary dir's random name once held "D1".
    expect(only.stdout).not.toMatch(/D1 migrations/);
    expect(await tables(url)).toContain("blog_posts");

    const missing = await plinth(["db", "migrate", "--only", "libsql", "--remote"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("needs READ_MODEL_URL");
  });

  it("answers usage errors with 2 and an unreachable libSQL server with 3, never printing the token", async () => {
    const bad = await plinth(["db", "migrate", "--only", "postgres"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--only takes d1 or libsql");
    const unknown = await plinth(["db", "migrate", "--frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("usage: plinth db migrate");
    // A misspelt environment is a usage error named before wrangler runs, not a failed migration (1).
    const nowhere = await plinth(["db", "migrate", "--env", "prodution", "--only", "d1"]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('no environment "prodution" in wrangler.toml (it has staging, production)');
    expect(nowhere.stdout).not.toContain("applying");

    const token = "tok-never-printed-123";
    const down = await plinth(["db", "migrate", "--only", "libsql"], {
      READ_MODEL_URL: "http://127.0.0.1:9",
      READ_MODEL_AUTH_TOKEN: token,
    });
    expect(down.code).toBe(3);
    expect(down.stderr).toContain("libSQL could not be reached");
    expect(down.stdout + down.stderr).not.toContain(token);
  });

  it("a token the libSQL server refuses is exit 4 naming READ_MODEL_AUTH_TOKEN, and a URL scheme libSQL lacks is usage (2)", async () => {
    // A 401 was reported as 'libSQL could not be reached' (exit 3): an operator checked the network, not the token.
    const server = await startHranaServer(path.join(dir, "refusing.db"), "the-right-token");
    try {
      const refused = await plinth(["db", "migrate", "--only", "libsql"], {
        READ_MODEL_URL: server.url,
        READ_MODEL_AUTH_TOKEN: "a-wrong-token-never-printed",
      });
      expect(refused.code).toBe(4);
      expect(refused.stderr).toContain("refused the token (HTTP 401): check READ_MODEL_AUTH_TOKEN");
      expect(refused.stdout + refused.stderr).not.toContain("a-wrong-token-never-printed");
    } finally {
      await server.stop();
    }
    const scheme = await plinth(["db", "migrate", "--only", "libsql"], {
      READ_MODEL_URL: "postgres://db.example.com/x",
    });
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain("READ_MODEL_URL must be a libsql:, https:, wss:, http:, ws: or file: URL");
  });

  it("never sends READ_MODEL_AUTH_TOKEN in the clear to another machine: usage (2), nothing sent", async () => {
    // http://, ws:// or libsql://…?tls=0 to a host elsewhere carried `Authorization: Bearer <token>` on the wire.
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && !a.internal && a.family === "IPv4")?.address;
    if (!address) throw new Error("this machine has no IPv4 address besides loopback");
    const received: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      received.push(req.headers.authorization);
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    try {
      const { port } = server.address() as { port: number };
      const token = "a-libsql-token-that-must-stay-off-the-wire";
      const ran = await plinth(["db", "migrate", "--only", "libsql"], {
        READ_MODEL_URL: `http://${address}:${port}`,
        READ_MODEL_AUTH_TOKEN: token,
      });
      expect(received).toEqual([]);
      expect(ran.code, ran.stderr).toBe(2);
      expect(ran.stderr).toContain("READ_MODEL_AUTH_TOKEN would cross the network in the clear");
      expect(ran.stdout + ran.stderr).not.toContain(token);
      // npm start and npm run deploy migrate through the same function.
      await expect(migrateLibsql({ url: `http://${address}:${port}`, authToken: token })).rejects.toThrow(
        "in the clear",
      );
      expect(received).toEqual([]);
      // The client takes a token in the URL too (`?authToken=`), and puts it in the same header.
      const inUrl = `http://${address}:${port}/?authToken=${token}`;
      await expect(migrateLibsql({ url: inUrl, authToken: undefined })).rejects.toThrow("in the clear");
      expect(received).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("is listed by plinth --help and explains itself with --help", async () => {
    const help = await plinth(["db", "migrate", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("READ_MODEL_URL");
    // The list names every option the command's own help does (--persist-to was missing from it).
    const usage = help.stdout.split("\n")[0]?.replace(/^usage: plinth /, "") ?? "";
    expect(usage).toContain("--persist-to <dir>");
    expect((await plinth(["--help"])).stdout).toContain(usage);
  });
});
