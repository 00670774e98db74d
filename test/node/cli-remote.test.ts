// The remote `plinth` commands against a served plinth: each command's table
// and --json output, --help, and every exit code class a script relies on.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import createClient from "openapi-fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { paths } from "../../src/generated/api";
import { plinth } from "./plinth-cli";
import { plantEventLetter, plantMailLetter } from "./support/dead-letters";
import { asPlatform, newTenantOf, servePlinthForFile } from "./support/served-plinth";

const ROOT = path.resolve(import.meta.dirname, "../..");
const served = servePlinthForFile();
let scratch = "";
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), "plinth-cli-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const newTenant = () => newTenantOf(served());
/** As the platform operator, against the served plinth. */
const platformRun = (args: string[]) => asPlatform(served(), args);

const ALL = [
  "tenants create",
  "tenants list",
  "tenants get",
  "tenants delete",
  "tenants recover-key",
  "tenants update",
  "tenants suspend",
  "tenants resume",
  "tenants reset-limits",
  "keys create",
  "keys list",
  "keys show",
  "keys revoke",
  "dead-letters list",
  "dead-letters replay",
  "dead-letters dismiss",
  "webhooks endpoints",
  "webhooks deliveries",
  "webhooks redeliver-failed",
  "webhooks enable",
  "webhooks disable",
  "event-dead-letters list",
  "event-dead-letters replay",
  "event-dead-letters dismiss",
  "mail-dead-letters list",
  "mail-dead-letters replay",
  "mail-dead-letters replay-pending",
  "mail-dead-letters dismiss",
  "events replay",
  "jobs list",
  "jobs run",
  "crypto reencrypt",
  "crypto versions",
  "audit export",
  "audit check",
  "audit rebuild",
  "openapi export",
  "audit verify",
  "new module",
  "modules list",
];

describe("plinth modules list", () => {
  it("shows each module's bindings and the variables the config check requires of it", async () => {
    const run = await plinth(["modules", "list"]);
    expect(run.status, run.stderr).toBe(0);
    const files = run.stdout.slice(run.stdout.indexOf("\nfiles "));
    expect(files).toMatch(/\n {2}bindings +FILES, FILE_STORE\n {2}variables +FILES_MAX_BYTES, FILES_QUOTA_BYTES\n/);
    // The values a module seals, by kind: what `plinth crypto versions` counts.
    expect(run.stdout).toMatch(/\n {2}sealed +webhooks\.secret, webhooks\.secret\.delivery_copy\n/);
  });
});

describe("plinth --help", () => {
  it("lists every command, where keys come from, and the exit codes", async () => {
    const run = await plinth(["--help"]);
    expect(run.status).toBe(0);
    for (const name of ALL) expect(run.stdout).toContain(`  ${name}`);
    expect(run.stdout).toContain("PLATFORM_ROOT_KEY");
    expect(run.stdout).toContain("--key-file");
    // Where each remote command's key comes from, every one named (mail-dead-letters and
    // audit export were missing): the key paragraph reads as one line.
    const keys = run.stdout.replace(/\n/g, " ");
    expect(keys).toContain(
      "platform commands (tenants, event-dead-letters, mail-dead-letters, events, jobs, crypto, audit rebuild) read $PLATFORM_ROOT_KEY",
    );
    expect(keys).toContain(
      "tenant commands (keys, dead-letters, webhooks, audit export, audit check) read $PLINTH_KEY",
    );
    expect(run.stdout).toMatch(
      /Exit: 0 ok, 1 .* 2 usage, 3 cannot reach the URL, no answer within --timeout, or no plinth answers there, 4 authentication/,
    );
  });

  it("modules list --help names what it prints, variables included", async () => {
    const run = await plinth(["modules", "list", "--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout.replace(/\n/g, " ")).toContain("bindings, variables, errors and routes");
  });

  it("describes one command's options, its key and the exit codes", async () => {
    const run = await plinth(["keys", "create", "--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: plinth keys create <name> --scope <permission>/);
    for (const flag of ["--scope", "--expires-at", "--key-file", "--url", "--json", "--help"]) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout).toContain("never as a flag value");
    expect(run.stdout).toContain("Exit: 0 ok");
  });

  it("says what --json prints for each kind of command", async () => {
    // Every --help said "print the API's JSON instead of a table": audit export prints its NDJSON
    // either way, and a replay prints its run's totals, neither the API's answer.
    const jsonLine = async (command: string[]) =>
      (await plinth([...command, "--help"])).stdout.split("\n").find((l) => l.trimStart().startsWith("--json")) ?? "";
    for (const command of [
      ["audit", "export"],
      ["openapi", "export"],
    ]) {
      expect(await jsonLine(command)).toContain(
        "with --out, what was written as JSON (the export itself prints as it is)",
      );
    }
    expect(await jsonLine(["events", "replay"])).toContain("print the run's totals as JSON instead of its text lines");
    expect(await jsonLine(["tenants", "list"])).toContain("print the API's JSON instead of a table");
    expect(await jsonLine(["tenants", "list"])).toContain("a failure as one JSON line on stderr");
  });

  it("names the exit 1 of a command whose API call succeeded but whose work did not", async () => {
    // Their --help listed only "1 the API refused (4xx) or failed (5xx)", while each exits 1 after
    // a 200: a script writer read crypto versions' exit 1 as the server refusing.
    const cases: [string[], string][] = [
      [["crypto", "versions"], "Exit 1 too: a tenant could not be counted, or values are sealed under a version"],
      [["crypto", "reencrypt"], "Exit 1 too: a tenant's values could not be re-sealed"],
      [["webhooks", "redeliver-failed"], "Exit 1 too: failed deliveries remain that were not requeued"],
    ];
    for (const [command, line] of cases) {
      const run = await plinth([...command, "--help"]);
      expect(run.stdout, command.join(" ")).toContain(line);
    }
    expect((await plinth(["tenants", "list", "--help"])).stdout).not.toContain("Exit 1 too");
  });
});

describe("the TypeScript SDK", () => {
  it("calls plinth with typed paths and answers, and tsc refuses what plinth does not serve", async () => {
    const sdk = createClient<paths>({
      baseUrl: served().origin,
      headers: { authorization: `Bearer ${served().rootKey}` },
    });
    const { data } = await sdk.GET("/api/v1/platform/jobs");
    const names: string[] = (data?.items ?? []).map((j) => `${j.module}/${j.job}`);
    expect(names).toContain("events/dead-letter-report");
    // Checked by tsc (npm run typecheck), never sent.
    const refused = () => {
      // @ts-expect-error no such route
      void sdk.GET("/api/v1/no-such-route");
      // @ts-expect-error a tenant needs a slug
      void sdk.POST("/api/v1/platform/tenants", { body: { name: "no slug" } });
    };
    expect(typeof refused).toBe("function");
  });
});

describe("tenants", () => {
  it("create prints the tenant and its admin key once; --json prints the API's JSON", async () => {
    const slug = `acme-${randomUUID().slice(0, 8)}`;
    const table = await platformRun(["tenants", "create", slug, "--name", "Acme Inc"]);
    expect(table.stderr).toBe("");
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^slug +${slug}$`, "m"));
    expect(table.stdout).toMatch(/^name +Acme Inc$/m);
    // What update, suspend and resume print too: the status and the version If-Match names.
    expect(table.stdout).toMatch(/^status +active$/m);
    expect(table.stdout).toMatch(/^version +1$/m);
    expect(table.stdout).toMatch(/^admin_key +plk_\S+$/m);

    const json = await platformRun(["tenants", "create", `${slug}-2`, "--plan", "pro", "--json"]);
    expect(json.status).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body).toMatchObject({ slug: `${slug}-2`, name: `${slug}-2`, plan: "pro" });
    expect(body.admin_key).toMatch(/^plk_/);

    const list = await platformRun(["tenants", "list", "--limit", "100"]);
    expect(list.status).toBe(0);
    expect(list.stdout.split("\n")[0]).toMatch(/^ID +SLUG +NAME +PLAN +STATUS +CREATED$/);
    expect(list.stdout).toMatch(new RegExp(`^\\S+ +${slug} +Acme Inc +free +active +\\S+$`, "m"));
    // Listing never shows a secret.
    expect(list.stdout).not.toContain("plk_");

    const page = await platformRun(["tenants", "list", "--limit", "1", "--json"]);
    const listed = JSON.parse(page.stdout);
    expect(listed.items).toHaveLength(1);
    expect(typeof listed.next_cursor).toBe("string");
  });
});

describe("tenants recover-key", () => {
  it("issues a tenant a new admin key, printed once, that works; an unknown tenant is 1", async () => {
    const tenant = await newTenant();
    const issued = await platformRun(["tenants", "recover-key", tenant.id, "--name", "ops"]);
    expect(issued.stderr).toBe("");
    expect(issued.status).toBe(0);
    expect(issued.stdout).toMatch(/^name +ops$/m);
    expect(issued.stdout).toContain("shown once");
    const key = /^key +(plk_\S+)$/m.exec(issued.stdout)?.[1] ?? "";
    const listed = await plinth(["keys", "list", "--json", "--url", served().origin], { PLINTH_KEY: key });
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).items.map((k: { name: string }) => k.name)).toContain("ops");
    const unknown = await platformRun(["tenants", "recover-key", "01NOSUCHTENANT0000000000000"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("not_found");
  });
});

describe("audit export", () => {
  it("writes the tenant's chain with its checkpoint, which audit verify accepts against the served JWKS", async () => {
    const tenant = await newTenant();
    const env = { PLINTH_KEY: tenant.key };
    const url = ["--url", served().origin];
    // Creating a key is an audited event; its entry lands once the queue delivered it.
    expect((await plinth(["keys", "create", "ci", "--scope", "blog.post.read", ...url], env)).status).toBe(0);
    const out = path.join(scratch, `audit-${tenant.id}.ndjson`);
    let lines: string[] = [];
    for (let i = 0; i < 60 && !lines.some((l) => l.includes('"identity.key.created"')); i++) {
      const exported = await plinth(["audit", "export", "--out", out, ...url], env);
      expect(exported.status, exported.stderr).toBe(0);
      expect(exported.stdout.trim()).toBe(`wrote ${out}`);
      lines = readFileSync(out, "utf8").split("\n").filter(Boolean);
      if (!lines.some((l) => l.includes('"identity.key.created"'))) await new Promise((r) => setTimeout(r, 100));
    }
    expect(lines.some((l) => l.includes('"identity.key.created"'))).toBe(true);
    expect(JSON.parse(lines.at(-1) ?? "{}")).toHaveProperty("checkpoint");
    const verified = await plinth(["audit", "verify", out, "--jwks", `${served().origin}/.well-known/jwks.json`]);
    expect(verified.stderr).toBe("");
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/^ok: /);
  }, 60_000);
});

describe("audit check", () => {
  it("has the served plinth recompute the tenant's chain a step at a time, from the start or from a seq", async () => {
    const tenant = await newTenant();
    const env = { PLINTH_KEY: tenant.key };
    const url = ["--url", served().origin];
    // Two audited events; their entries land once the queue delivered them (the tenant's own
    // creation may add more, at any time: nothing below assumes how many there are).
    for (const name of ["ci-1", "ci-2"]) {
      expect((await plinth(["keys", "create", name, "--scope", "blog.post.read", ...url], env)).status).toBe(0);
    }
    let summary: Record<string, unknown> = {};
    for (let i = 0; i < 60 && !(Number(summary.entries) >= 2); i++) {
      const checked = await plinth(["audit", "check", "--json", ...url], env);
      expect(checked.status, checked.stderr).toBe(0);
      summary = JSON.parse(checked.stdout);
      if (!(Number(summary.entries) >= 2)) await new Promise((r) => setTimeout(r, 100));
    }
    expect(summary).toMatchObject({
      ok: true,
      from_seq: 1,
      steps: 1,
      last_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(summary.last_seq).toBe(summary.entries);

    // One entry a step: a line for each, then the verdict over them all.
    const stepped = await plinth(["audit", "check", "--step", "1", ...url], env);
    expect(stepped.stderr).toBe("");
    expect(stepped.status).toBe(0);
    const lines = stepped.stdout.trim().split("\n");
    const last = lines.length - 1;
    expect(last).toBeGreaterThanOrEqual(2);
    expect(lines.slice(0, last)).toEqual(Array.from({ length: last }, (_, i) => `seq ${i + 1}–${i + 1}: ok`));
    expect(lines.at(-1)).toMatch(new RegExp(`^ok: ${last} entries from seq 1 through ${last} recomputed`));

    // From a later seq (the stored hash before it anchors the step), and from past the end.
    const later = await plinth(["audit", "check", "--from-seq", "2", ...url], env);
    const [, through, count, end] =
      /^seq 2–(\d+): ok\nok: (\d+) entries from seq 2 through (\d+) /.exec(later.stdout) ?? [];
    expect(Number(count)).toBe(Number(through) - 1);
    expect(end).toBe(through);
    // One past the head is where a check that reached it goes on: nothing new, ok. Further is a mistake.
    const head = Number(end);
    // (Entries may have landed since: then it verifies them; ok either way.)
    const after = await plinth(["audit", "check", "--json", "--from-seq", String(head + 1), ...url], env);
    expect(after.status, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, from_seq: head + 1 });
    const past = await plinth(["audit", "check", "--from-seq", "1000000", ...url], env);
    expect(past.status).toBe(1);
    expect(past.stdout).toBe("");
    // The chain may have grown since (the earlier steps' own audit entries land from the queue).
    const [, length] =
      /--from-seq 1000000 is past the end of the chain, which has (\d+) entries/.exec(past.stderr) ?? [];
    expect(Number(length), past.stderr).toBeGreaterThanOrEqual(head);
  }, 60_000);
});

describe("keys", () => {
  it("create, list (table, --json, --key-file) and revoke a tenant's API key", async () => {
    const tenant = await newTenant();
    const env = { PLINTH_KEY: tenant.key };
    const url = ["--url", served().origin];
    const created = await plinth(["keys", "create", "ci", "--scope", "blog.post.read", ...url], env);
    expect(created.stderr).toBe("");
    expect(created.status).toBe(0);
    expect(created.stdout).toMatch(/^scopes +blog\.post\.read$/m);
    expect(created.stdout).toMatch(/^key +plk_\S+$/m);
    const id = /^id +(\S+)$/m.exec(created.stdout)?.[1] ?? "";

    const list = await plinth(["keys", "list", ...url], env);
    expect(list.status).toBe(0);
    expect(list.stdout.split("\n")[0]).toMatch(/^ID +NAME +PREFIX +SCOPES +EXPIRES +LAST USED +CREATED +CREATED BY$/);
    // Made with the tenant's admin key: that key's id is its creator. When it was made is what
    // an operator answering a leak sorts keys by (those minted since the leak go).
    expect(list.stdout).toMatch(
      new RegExp(`^${id} +ci +\\S+ +blog\\.post\\.read +- +- +\\d{4}-\\d\\d-\\d\\dT\\S+Z +[0-9A-Z]{26}$`, "m"),
    );

    const keyFile = path.join(scratch, "key");
    writeFileSync(keyFile, `${tenant.key}\n`);
    const json = await plinth(["keys", "list", "--json", "--key-file", keyFile, ...url]);
    expect(json.status).toBe(0);
    const ids = JSON.parse(json.stdout).items.map((k: { id: string }) => k.id);
    expect(ids).toContain(id);
    expect(json.stdout).not.toContain(tenant.key);

    const revoked = await plinth(["keys", "revoke", id, ...url], env);
    expect(revoked.status).toBe(0);
    expect(revoked.stdout.trim()).toBe(`revoked ${id}`);
    // --json says what was done as JSON, though the API answers 204 with nothing.
    const other = /^id +(\S+)$/m.exec(
      (await plinth(["keys", "create", "ci2", "--scope", "blog.post.read", ...url], env)).stdout,
    )?.[1];
    const revokedJson = await plinth(["keys", "revoke", other ?? "", "--json", ...url], env);
    expect(revokedJson.status, revokedJson.stderr).toBe(0);
    expect(JSON.parse(revokedJson.stdout)).toEqual({ revoked: other, with: [] });
    const after = JSON.parse((await plinth(["keys", "list", "--json", ...url], env)).stdout);
    expect(after.items.map((k: { id: string }) => k.id)).not.toContain(id);
  });

  it("keys show prints one key without its secret (--json: the API's), and exits 1 for an unknown id", async () => {
    // After a create, where a script reads the key back by its id (the create's Location).
    const tenant = await newTenant();
    const env = { PLINTH_KEY: tenant.key };
    const url = ["--url", served().origin];
    const created = await plinth(["keys", "create", "ci", "--scope", "blog.post.read", "--json", ...url], env);
    expect(created.status, created.stderr).toBe(0);
    const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };

    const shown = await plinth(["keys", "show", id, ...url], env);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^id +${id}$`, "m"));
    expect(shown.stdout).toMatch(/^scopes +blog\.post\.read$/m);
    expect(shown.stdout).toMatch(/^created_by +[0-9A-Z]{26}$/m);
    expect(shown.stdout).not.toContain(key);
    const json = await plinth(["keys", "show", id, "--json", ...url], env);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, name: "ci", scopes: ["blog.post.read"], last_used_at: null });
    expect(json.stdout).not.toContain(key);

    const missing = await plinth(["keys", "show", "01NOSUCHKEY0000000000000000", ...url], env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("404 not_found");
  });

  it("keys revoke names the keys that went with the revoked one", async () => {
    // Revoking a leaked key revokes every key it created (docs/identity.md); the API answers 204
    // with nothing, and the CLI printed only "revoked <id>": the integrations that lost their
    // key were found when they failed.
    const tenant = await newTenant();
    const env = { PLINTH_KEY: tenant.key };
    const url = ["--url", served().origin];
    const idOf = (out: string) => /^id +(\S+)$/m.exec(out)?.[1] ?? "";
    const keyOf = (out: string) => /^key +(\S+)$/m.exec(out)?.[1] ?? "";
    const parent = await plinth(
      ["keys", "create", "leaked", "--scope", "admin.keys.write", "--scope", "blog.post.read", ...url],
      env,
    );
    expect(parent.status, parent.stderr).toBe(0);
    const child = await plinth(["keys", "create", "ci-child", "--scope", "blog.post.read", ...url], {
      PLINTH_KEY: keyOf(parent.stdout),
    });
    expect(child.status, child.stderr).toBe(0);

    const revoked = await plinth(["keys", "revoke", idOf(parent.stdout), ...url], env);
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(revoked.stdout.trim().split("\n")).toEqual([
      `revoked ${idOf(parent.stdout)}`,
      `and with it 1 key(s) it created: ${idOf(child.stdout)} (ci-child)`,
    ]);

    // A key that may revoke keys but not read them still revokes; it cannot name the others.
    const writer = await plinth(["keys", "create", "revoker", "--scope", "admin.keys.write", ...url], env);
    const target = await plinth(["keys", "create", "target", "--scope", "admin.keys.write", ...url], env);
    const byWriter = await plinth(["keys", "revoke", idOf(target.stdout), ...url], {
      PLINTH_KEY: keyOf(writer.stdout),
    });
    expect(byWriter.status, byWriter.stderr).toBe(0);
    expect(byWriter.stdout.trim()).toBe(
      `revoked ${idOf(target.stdout)}, with every key it created (this key may not list them: admin.keys.read)`,
    );
  });
});

describe("dead-letters", () => {
  it("lists a tenant's dead letters and replays one", async () => {
    const tenant = await newTenant();
    const id = await plantEventLetter(served().sql, tenant.id, { type: "cli.replayed", reason: "planted" });
    const env = { PLINTH_KEY: tenant.key };
    const url = ["--url", served().origin];

    const list = await plinth(["dead-letters", "list", ...url], env);
    expect(list.stderr).toBe("");
    // The event's id is what the consumer's `message failed; will retry` log lines carry, with
    // the error that sent it here: without it in the table, finding the cause took --json.
    const eventId = JSON.parse((await plinth(["dead-letters", "list", "--json", ...url], env)).stdout).items.find(
      (d: { id: string }) => d.id === id,
    )?.event?.id;
    expect(eventId).toBeTruthy();
    expect(list.stdout.split("\n")[0]).toMatch(
      /^ID +EVENT ID +EVENT TYPE +ATTEMPTS +RECEIVED +REPLAYED +CLAIM LAPSES +REASON$/,
    );
    expect(list.stdout).toMatch(new RegExp(`^${id} +${eventId} +cli\\.replayed +5 +\\S+ +- +- +planted$`, "m"));

    const replayed = await plinth(["dead-letters", "replay", id, ...url], env);
    expect(replayed.status).toBe(0);
    expect(replayed.stdout.trim()).toBe(`replayed ${id}`);

    // The planted event is no valid envelope: once replayed it may come back as a dead letter of its own.
    const json = JSON.parse((await plinth(["dead-letters", "list", "--json", ...url], env)).stdout);
    const planted = json.items.find((d: { id: string }) => d.id === id);
    expect(planted).toMatchObject({ id, event_type: "cli.replayed" });
    expect(planted.replayed_at).not.toBeNull();
  });
});

describe("event-dead-letters", () => {
  it("lists every tenant's dead letters with the root key, naming the tenant, and replays one", async () => {
    // The hourly report names the tenants whose letters wait; before these commands the operator
    // needed a key of each such tenant (tenants recover-key) to see or replay them.
    const tenant = await newTenant();
    const id = await plantEventLetter(served().sql, tenant.id, { type: "cli.platform", reason: "planted" });

    const list = await platformRun(["event-dead-letters", "list", "--tenant", tenant.id, "--pending"]);
    expect(list.stderr).toBe("");
    // The event id finds the consumer's log lines naming why it failed (docs/operations.md).
    const eventId = JSON.parse(
      (await platformRun(["event-dead-letters", "list", "--tenant", tenant.id, "--json"])).stdout,
    ).items.find((d: { id: string }) => d.id === id)?.event?.id;
    expect(eventId).toBeTruthy();
    expect(list.stdout.split("\n")[0]).toMatch(
      /^ID +TENANT +EVENT ID +EVENT TYPE +ATTEMPTS +RECEIVED +REPLAYED +CLAIM LAPSES +APPLIED +REASON$/,
    );
    expect(list.stdout).toMatch(
      new RegExp(`^${id} +${tenant.id} +${eventId} +cli\\.platform +5 +\\S+ +- +- +planted$`, "m"),
    );

    const replayed = await platformRun(["event-dead-letters", "replay", id]);
    expect(replayed.status).toBe(0);
    expect(replayed.stdout.trim()).toBe(`replayed ${id}`);
    const json = JSON.parse(
      (await platformRun(["event-dead-letters", "list", "--tenant", tenant.id, "--json"])).stdout,
    );
    expect(json.items.find((d: { id: string }) => d.id === id)?.replayed_at).not.toBeNull();

    const missing = await platformRun(["event-dead-letters", "replay", "dl_unknown"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("not_found");
  });
});

describe("dismissing dead letters", () => {
  it("the operator dismisses any tenant's letter only with --yes; it is gone from the list; an unknown id fails", async () => {
    const tenant = await newTenant();
    const id = await plantEventLetter(served().sql, tenant.id, { type: "cli.removed", reason: "planted" });
    const listed = async () =>
      JSON.parse((await platformRun(["event-dead-letters", "list", "--tenant", tenant.id, "--json"])).stdout).items.map(
        (d: { id: string }) => d.id,
      );

    // A dismissed letter is gone for good: without --yes nothing is asked of the API.
    const refused = await platformRun(["event-dead-letters", "dismiss", id]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("--yes");
    expect(refused.stderr).toContain(`plinth event-dead-letters replay ${id}`);
    expect(await listed()).toContain(id);

    const dismissed = await platformRun(["event-dead-letters", "dismiss", id, "--yes"]);
    expect(dismissed.status, dismissed.stderr).toBe(0);
    expect(dismissed.stdout.trim()).toBe(`dismissed ${id}`);
    expect(await listed()).not.toContain(id);

    const missing = await platformRun(["event-dead-letters", "dismiss", id, "--yes", "--json"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("not_found");
  });

  it("a tenant admin dismisses its own letter with --yes", async () => {
    const tenant = await newTenant();
    const id = await plantEventLetter(served().sql, tenant.id, { type: "cli.removed", reason: "planted" });
    const env = { PLINTH_KEY: tenant.key };
    const url = ["--url", served().origin];
    expect((await plinth(["dead-letters", "dismiss", id, ...url], env)).status).toBe(2);
    const dismissed = await plinth(["dead-letters", "dismiss", id, "--yes", "--json", ...url], env);
    expect(dismissed.status, dismissed.stderr).toBe(0);
    expect(JSON.parse(dismissed.stdout)).toEqual({ dismissed: id });
    const after = JSON.parse((await plinth(["dead-letters", "list", "--json", ...url], env)).stdout);
    expect(after.items).toEqual([]);
  });
});

describe("mail-dead-letters", () => {
  /** Plants a mail dead letter of `tenantId` as the mail consumer stores one; its id. */
  const plantMail = (tenantId: string) =>
    plantMailLetter(served().sql, tenantId, {
      kind: "cli.planted",
      to: "dead@example.com",
      reason: "provider down",
      prefix: "mdl",
    });

  it("lists a tenant's mail dead letters, replays one, then every pending one", async () => {
    const tenant = await newTenant();
    const [first, second, third] = [await plantMail(tenant.id), await plantMail(tenant.id), await plantMail(tenant.id)];

    const list = await platformRun(["mail-dead-letters", "list", "--tenant", tenant.id]);
    expect(list.stderr).toBe("");
    expect(list.stdout.split("\n")[0]).toMatch(
      /^ID +TENANT +KIND +ATTEMPTS +RECEIVED +REPLAYED +CLAIM LAPSES +REASON$/,
    );
    expect(list.stdout).toMatch(
      new RegExp(`^${first} +${tenant.id} +cli\\.planted +31 +\\S+ +- +- +provider down$`, "m"),
    );

    const one = await platformRun(["mail-dead-letters", "replay", first]);
    expect(one.status).toBe(0);
    expect(one.stdout.trim()).toBe(`replayed ${first}`);
    const pending = JSON.parse(
      (await platformRun(["mail-dead-letters", "list", "--tenant", tenant.id, "--pending", "--json"])).stdout,
    );
    expect(pending.items.map((d: { id: string }) => d.id).sort()).toEqual([second, third].sort());

    const rest = await platformRun(["mail-dead-letters", "replay-pending", "--tenant", tenant.id]);
    expect(rest.status).toBe(0);
    expect(rest.stdout.trim()).toBe("replayed 2");
    const none = JSON.parse(
      (await platformRun(["mail-dead-letters", "list", "--tenant", tenant.id, "--pending", "--json"])).stdout,
    );
    expect(none.items).toEqual([]);

    const missing = await platformRun(["mail-dead-letters", "replay", "mdl_unknown"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("not_found");
    const usage = await platformRun(["mail-dead-letters", "replay"]);
    expect(usage.status).toBe(2);
  });

  it("dismisses a mail never to be sent only with --yes; it no longer waits; an unknown id fails", async () => {
    const tenant = await newTenant();
    const [id, kept] = [await plantMail(tenant.id), await plantMail(tenant.id)];
    const pending = async () =>
      JSON.parse(
        (await platformRun(["mail-dead-letters", "list", "--tenant", tenant.id, "--pending", "--json"])).stdout,
      ).items.map((d: { id: string }) => d.id);

    // A dismissed mail is gone for good: without --yes nothing is asked of the API.
    const refused = await platformRun(["mail-dead-letters", "dismiss", id]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("--yes");
    expect(refused.stderr).toContain(`plinth mail-dead-letters replay ${id}`);
    expect((await pending()).sort()).toEqual([id, kept].sort());

    const dismissed = await platformRun(["mail-dead-letters", "dismiss", id, "--yes"]);
    expect(dismissed.status, dismissed.stderr).toBe(0);
    expect(dismissed.stdout.trim()).toBe(`dismissed ${id}`);
    expect(await pending()).toEqual([kept]);

    const missing = await platformRun(["mail-dead-letters", "dismiss", id, "--yes", "--json"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("not_found");
  });
});

describe("events replay", () => {
  it("prints a progress line and, with --json, the totals", async () => {
    const tenant = await newTenant();
    const run = await platformRun(["events", "replay", "blog:blog.posts", "--tenant", tenant.id]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^blog:blog\.posts: 0 streams, 0 events read, 0 applied \(\d+ events\/s\), done$/m);
    const json = await platformRun(["events", "replay", "blog:blog.posts", "--tenant", tenant.id, "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ source: "events", streams: 0, events: 0, applied: 0, calls: 1 });
  });
});

describe("jobs", () => {
  it("runs a job now, printing what it found, and lists the jobs with its run", async () => {
    const tenant = await newTenant();
    await plantEventLetter(served().sql, tenant.id, { type: "cli.reported", reason: "planted" });
    const run = await platformRun(["jobs", "run", "events", "dead-letter-report"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^outcome +ok$/m);
    expect(run.stdout).toMatch(/^trigger +manual$/m);
    // What the report found, which only its log line said: the operator who ran it had to go
    // to `wrangler tail` to learn whether any letter waits. (Other tests plant letters too.)
    expect(run.stdout).toMatch(/^result\n {2}waiting +[1-9]\d*\n {2}new +\d+\n {2}already_applied +\d+\n/m);
    expect(run.stdout).toMatch(/^ {2}by_type +\{.*"cli\.reported":1.*\}$/m);
    expect(run.stdout).toMatch(new RegExp(`^ {2}by_tenant +\\{.*"${tenant.id}":1.*\\}$`, "m"));
    const ranJson = JSON.parse((await platformRun(["jobs", "run", "events", "dead-letter-report", "--json"])).stdout);
    expect(ranJson.result.by_type["cli.reported"]).toBe(1);

    const list = await platformRun(["jobs", "list"]);
    expect(list.status).toBe(0);
    expect(list.stdout.split("\n")[0]).toMatch(/^JOB +CRON +NEXT DUE +RUNNING +LAST RUN +LAST SUCCESS +RESULT$/);
    // The last run's result, which only --json had: its JSON, cut to a column's width.
    const row = list.stdout.match(/^events\/dead-letter-report +45 \* \* \* \* +\S+ +- +ok \S+ +\S+ +(\S+)$/m);
    expect(row, list.stdout).not.toBeNull();
    const result = String(row?.[1]);
    expect(result).toMatch(/^\{"waiting":[1-9]\d*,"new":\d+,"already_applied":\d+,.*…$/);
    expect(result).toHaveLength(48);

    const json = JSON.parse((await platformRun(["jobs", "list", "--json"])).stdout);
    const job = json.items.find((j: { job: string }) => j.job === "dead-letter-report");
    expect(job.last_run.outcome).toBe("ok");
    // A job that has not run (or whose run said nothing) shows none.
    const quiet = json.items.find((j: { last_run: { result: unknown } | null }) => !j.last_run?.result);
    expect(quiet).toBeDefined();
    expect(list.stdout).toMatch(new RegExp(`^${quiet.module}/${quiet.job} .* -$`, "m"));
  });
});

describe("openapi export", () => {
  it("prints the served document, writes it with --out, and reads the generated one with --local", async () => {
    const printed = await plinth(["openapi", "export", "--url", served().origin]);
    expect(printed.status).toBe(0);
    const doc = JSON.parse(printed.stdout);
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/api/v1/platform/tenants");

    const out = path.join(scratch, "openapi.json");
    const written = await plinth(["openapi", "export", "--out", out, "--url", served().origin]);
    expect(written.status).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(doc);

    const local = await plinth(["openapi", "export", "--local"]);
    expect(local.status).toBe(0);
    expect(local.stdout).toBe(readFileSync(path.join(ROOT, "src", "generated", "openapi.json"), "utf8"));
    // The generated document describes the same operations as the served one.
    expect(Object.keys(JSON.parse(local.stdout).paths).sort()).toEqual(Object.keys(doc.paths).sort());
  });
});

describe("exit codes", () => {
  it("2 for usage: an unknown option, a missing argument, no key", async () => {
    const unknown = await platformRun(["tenants", "list", "--bogus"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("--bogus");
    const missing = await platformRun(["jobs", "run", "events"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("usage: plinth jobs run <module> <job>");
    const noKey = await plinth(["keys", "list", "--url", served().origin]);
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toContain("PLINTH_KEY");
    const noCommand = await plinth(["tenants", "frobnicate"]);
    expect(noCommand.status).toBe(2);
  });

  it("3 when nothing answers at the URL", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const run = await plinth(["tenants", "list", "--url", `http://127.0.0.1:${port}`], { PLATFORM_ROOT_KEY: "x" });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it("4 when the key is refused, without printing it", async () => {
    const wrong = "not-the-root-key";
    const platform = await plinth(["jobs", "list", "--url", served().origin], { PLATFORM_ROOT_KEY: wrong });
    expect(platform.status).toBe(4);
    expect(platform.stderr).toMatch(/^plinth: 401 \S+: /);
    const tenantKey = await plinth(["keys", "list", "--url", served().origin], { PLINTH_KEY: "plk_wrong" });
    expect(tenantKey.status).toBe(4);
    expect(`${platform.stdout}${platform.stderr}${tenantKey.stderr}`).not.toContain(wrong);
  });

  it("1 when the API refuses the request, printing the problem's code and fields", async () => {
    const invalid = await platformRun(["tenants", "create", "Not A Slug!"]);
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/^plinth: 400 validation_failed: /);
    expect(invalid.stderr).toMatch(/^ {2}body\.slug: must be a DNS label/m);
    const tenant = await newTenant();
    const gone = await plinth(["keys", "revoke", "no-such-key", "--url", served().origin], { PLINTH_KEY: tenant.key });
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/^plinth: 404 not_found: /);
    // With --json the refusal is the API's problem+json (on stderr), for a script to parse.
    const json = await platformRun(["tenants", "create", "Not A Slug!", "--json"]);
    expect(json.status).toBe(1);
    const problem = JSON.parse(json.stderr);
    expect(problem).toMatchObject({ status: 400, code: "validation_failed" });
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain("body.slug");
  });
});

describe("plinth crypto against a served plinth", () => {
  it("counts a tenant's sealed values by key version, and finds none to re-seal while their version is current", async () => {
    const t = await newTenant();
    const sdk = createClient<paths>({ baseUrl: served().origin, headers: { authorization: `Bearer ${t.key}` } });
    const hook = await sdk.POST("/api/v1/admin/webhooks", {
      body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
    });
    expect(hook.response.status, JSON.stringify(hook.error)).toBe(201);

    const versions = await platformRun(["crypto", "versions", "--tenant", t.id, "--json"]);
    expect(versions.status, versions.stderr).toBe(0);
    expect(JSON.parse(versions.stdout)).toMatchObject({
      current_version: 1,
      configured_versions: [1],
      tenants: 1,
      counts: { "webhooks.secret": { "1": 1 }, "identity.totp": { "1": 0 }, "identity.sso.client_secret": { "1": 0 } },
      failed: [],
    });
    const run = await platformRun(["crypto", "reencrypt", "--tenant", t.id]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("done: 1 tenant(s), 0 value(s) re-sealed under v1");
  });
});
