// `plinth crypto versions` and `plinth crypto reencrypt` against a stand-in plinth that
// answers the two platform operations as the API does (test/kernel/key-rotation.test.ts
// tests the API itself): paging through every tenant, the totals, the verdict on each
// configured version, --tenant, --json, and a tenant's failure as exit 1.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plinth, STAND_IN_HEADERS } from "./plinth-cli";

const ROOT_KEY = "r".repeat(43);
const KINDS = ["identity.totp", "webhooks.secret"];

/** What each tenant still holds under v1 (re-sealing moves it to v2), and a tenant that fails. */
const state = {
  v1: new Map([
    ["t1", 2],
    ["t2", 0],
    ["t3", 1],
  ]),
  v2: new Map([
    ["t1", 1],
    ["t2", 1],
    ["t3", 0],
  ]),
  failing: null as string | null,
  /** A reencrypt page (its `after`) the stand-in answers with a 500, as a crashed call would. */
  brokenAfter: null as string | null,
  /** ENCRYPTION_KEYS as the stand-in's versions answer names it. */
  configured: [2, 1],
};
const requests: { method: string; url: string; auth: string | undefined; body: unknown }[] = [];

const countsOf = (id: string) =>
  Object.fromEntries(
    KINDS.map((kind, i) => [
      kind,
      { "2": i === 0 ? (state.v2.get(id) ?? 0) : 0, "1": i === 0 ? (state.v1.get(id) ?? 0) : 0 },
    ]),
  );

/** The tenants a call covers: two per page, as a small page limit would give. */
function pageOf(tenant: string | undefined, after: string | undefined) {
  if (tenant) return { ids: [tenant], next: null };
  const ids = [...state.v1.keys()].filter((id) => after === undefined || id > after).slice(0, 2);
  return { ids, next: ids.length === 2 ? (ids.at(-1) ?? null) : null };
}

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  let text = "";
  req.setEncoding("utf8");
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : null;
}

const server = createServer(async (req, res) => {
  const body = await bodyOf(req);
  requests.push({ method: req.method ?? "", url: req.url ?? "", auth: req.headers.authorization, body });
  const url = new URL(req.url ?? "/", "http://x");
  const reply = (status: number, json: unknown) => {
    res.writeHead(status, { "content-type": "application/json", ...STAND_IN_HEADERS });
    res.end(JSON.stringify(json));
  };
  if (req.headers.authorization !== `Bearer ${ROOT_KEY}`) {
    return reply(401, {
      code: "unauthenticated",
      status: 401,
      detail: "the credential is unknown, expired or revoked",
    });
  }
  if (url.pathname === "/api/v1/platform/crypto/versions") {
    const { ids, next } = pageOf(
      url.searchParams.get("tenant_id") ?? undefined,
      url.searchParams.get("after") ?? undefined,
    );
    // A tenant that could not be counted answers no counts and its error, as the API does.
    const tenants = ids.map((id) =>
      id === state.failing
        ? { tenant_id: id, counts: {} as ReturnType<typeof countsOf>, error: "no master key of version 1" }
        : { tenant_id: id, counts: countsOf(id), error: null },
    );
    const counts = Object.fromEntries(
      KINDS.map((kind) => [
        kind,
        {
          "2": tenants.reduce((n, t) => n + (t.counts[kind]?.["2"] ?? 0), 0),
          "1": tenants.reduce((n, t) => n + (t.counts[kind]?.["1"] ?? 0), 0),
        },
      ]),
    );
    return reply(200, { current_version: 2, configured_versions: state.configured, counts, tenants, next });
  }
  if (url.pathname === "/api/v1/platform/crypto/reencrypt" && req.method === "POST") {
    const { tenant_id, after } = body as { tenant_id?: string; after?: string };
    if (after !== undefined && after === state.brokenAfter) {
      return reply(500, { code: "internal", status: 500, detail: "internal error", request_id: "req-9" });
    }
    const { ids, next } = pageOf(tenant_id, after);
    const tenants = ids.map((id) => {
      if (id === state.failing) return { tenant_id: id, resealed: 0, raced: 0, error: "no master key of version 1" };
      const resealed = state.v1.get(id) ?? 0;
      state.v1.set(id, 0);
      state.v2.set(id, (state.v2.get(id) ?? 0) + resealed);
      return { tenant_id: id, resealed, raced: 0, error: null };
    });
    return reply(200, { current_version: 2, tenants, next });
  }
  reply(404, { code: "not_found", status: 404, detail: "no such route" });
});

let origin = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const asOperator = (...args: string[]) => plinth(["crypto", ...args, "--url", origin], { PLATFORM_ROOT_KEY: ROOT_KEY });

describe("plinth crypto", () => {
  it("reports v1 in use, re-seals every tenant page by page, then reports v1 as removable", async () => {
    const before = await asOperator("versions");
    expect(before.status, before.stderr).toBe(0);
    expect(before.stdout).toMatch(/FIELD KIND +V2 +V1\n/);
    expect(before.stdout).toMatch(/identity\.totp +2 +3\n/);
    expect(before.stdout).toContain("v1: 3 value(s) still sealed under it: run plinth crypto reencrypt first");
    expect(before.stdout).toContain("v2: 2 value(s), the current version");

    requests.length = 0;
    const run = await asOperator("reencrypt");
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("done: 3 tenant(s), 3 value(s) re-sealed under v2");
    // Two pages: the second goes on after the first one's last tenant; the root key on each.
    expect(requests.map((r) => r.body)).toEqual([{ limit: 20 }, { after: "t2", limit: 20 }]);
    expect(requests.every((r) => r.auth === `Bearer ${ROOT_KEY}`)).toBe(true);

    const after = await asOperator("versions", "--json");
    expect(after.status, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual({
      current_version: 2,
      configured_versions: [2, 1],
      tenants: 3,
      counts: { "identity.totp": { "2": 5, "1": 0 }, "webhooks.secret": { "2": 0, "1": 0 } },
      failed: [],
    });
    const table = await asOperator("versions");
    expect(table.stdout).toContain("v1: 0 values: no ciphertext needs it, it can be removed from ENCRYPTION_KEYS");

    // Re-running is a no-op, and --tenant names one tenant.
    requests.length = 0;
    const again = await asOperator("reencrypt", "--tenant", "t2", "--json");
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ current_version: 2, tenants: 1, resealed: 0, raced: 0, failed: [] });
    expect(requests.map((r) => r.body)).toEqual([{ tenant_id: "t2", limit: 20 }]);
  });

  it("exits 1 naming a tenant whose pass failed, after the others were done, never saying done, and how to resume", async () => {
    // It printed "done: 3 tenant(s), 4 value(s) re-sealed under v2" on stdout, the failure
    // only on stderr: an operator reading the last stdout line would retire v1 too early.
    state.failing = "t3";
    state.v1.set("t1", 4);
    const run = await asOperator("reencrypt");
    expect(run.status).toBe(1);
    expect(run.stdout).not.toContain("done");
    expect(run.stdout).toContain("incomplete: 4 value(s) re-sealed under v2 in 2 of 3 tenant(s); 1 tenant(s) failed");
    expect(run.stderr).toContain("1 tenant(s) failed:\n  t3: no master key of version 1");
    expect(run.stderr).toContain("resume once the cause is fixed:\n  plinth crypto reencrypt --tenant t3\n");
    expect(run.stderr).toContain("values already under v2 are skipped");
    state.failing = null;
  });

  it("a call failing mid-run says what the calls before it re-sealed, not done, and that a re-run resumes", async () => {
    // The progress lines were all an operator had; nothing said the run was cut short or how to go on.
    const before = { v1: new Map(state.v1), v2: new Map(state.v2) };
    state.v1.set("t1", 2);
    state.v1.set("t3", 1);
    state.brokenAfter = "t2";
    const run = await asOperator("reencrypt");
    state.brokenAfter = null;
    state.v1 = before.v1;
    state.v2 = before.v2;
    expect(run.status).toBe(1);
    expect(run.stdout).not.toContain("done");
    expect(run.stderr).toContain("500 internal");
    expect(run.stderr).toContain("stopped after 2 tenant(s), 2 value(s) re-sealed under v2");
    expect(run.stderr).toContain("resume with: plinth crypto reencrypt --after t2");
    expect(run.stderr).toContain("values already under v2 are skipped");
  });

  it("resumes with --after where a cut-short run stopped, and says it again when that first call fails", async () => {
    // A run cut short could only start over, reading every tenant again on a large install.
    const before = { v1: new Map(state.v1), v2: new Map(state.v2) };
    state.v1.set("t1", 2);
    state.v1.set("t3", 1);
    state.brokenAfter = "t2";
    const failed = await asOperator("reencrypt", "--after", "t2");
    state.brokenAfter = null;
    const from = requests.length;
    const resumed = await asOperator("reencrypt", "--after", "t2");
    const calls = requests.slice(from).map((r) => r.body as { after?: string });
    state.v1 = before.v1;
    state.v2 = before.v2;
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("resume with: plinth crypto reencrypt --after t2");
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(calls.map((b) => b.after)).toEqual(["t2"]);
    expect(resumed.stdout).toContain("done: 1 tenant(s), 1 value(s) re-sealed under v2");
  });

  it("calls no version removable on one tenant's count: the other tenants were not counted", async () => {
    state.v1.set("t1", 2);
    state.v1.set("t2", 0);
    const one = await asOperator("versions", "--tenant", "t2");
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toContain("v1: 0 values in tenant t2; the other tenants were not counted");
    expect(one.stdout).not.toContain("it can be removed");
    const all = await asOperator("versions");
    expect(all.stdout).toContain("v1: 2 value(s) still sealed under it");
  });

  it("says of a newer version listed after the current one that nothing seals under it yet", async () => {
    // An operator who appended the new version (as jwt-keys --stage appends a key) was told
    // "v3: 0 values: no ciphertext needs it, it can be removed", as of a retired version,
    // while the old one went on sealing every new write.
    state.configured = [2, 1, 3];
    const run = await asOperator("versions");
    state.configured = [2, 1];
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "v3: 0 values: newer than the current v2 but listed after it, so nothing seals under it yet (the first listed seals): to make it current, put it first",
    );
    expect(run.stdout).not.toMatch(/v3: .*it can be removed/);
  });

  it("names values sealed under a version ENCRYPTION_KEYS no longer has (removed too early)", async () => {
    state.v1.set("t1", 2);
    state.configured = [2];
    const run = await asOperator("versions");
    const json = await asOperator("versions", "--json");
    state.configured = [2, 1];
    // It exited 0 here, so a script checking before removing a version read "all readable".
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/identity\.totp +\d+ +2\n/);
    expect(run.stdout).toContain(
      "v1: 2 value(s) sealed under it, but ENCRYPTION_KEYS lacks it: nothing can open them until it is put back",
    );
    expect(run.stderr).toContain("ENCRYPTION_KEYS no longer lists, so nothing opens them:\n  v1: 2 value(s)\n");
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      configured_versions: [2],
      counts: { "identity.totp": { "1": 2 } },
    });
    expect(JSON.parse(json.stderr.trim())).toMatchObject({
      error: "api",
      exit_code: 1,
      unlisted_versions: { "1": 2 },
    });
  });

  it("names both the tenants it could not count and the unlisted versions, in one failure", async () => {
    // With both, stderr named only the failed tenants (the first error thrown): the values no
    // key opens were on stdout's verdicts alone, and --json's stderr line lacked unlisted_versions.
    state.v1.set("t1", 2);
    state.configured = [2];
    state.failing = "t3";
    const run = await asOperator("versions");
    const json = await asOperator("versions", "--json");
    state.configured = [2, 1];
    state.failing = null;
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      "1 tenant(s) failed; run again once the cause is fixed:\n  t3: no master key of version 1",
    );
    expect(run.stderr).toContain("ENCRYPTION_KEYS no longer lists, so nothing opens them:\n  v1: 2 value(s)\n");
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stderr.trim())).toMatchObject({
      error: "api",
      exit_code: 1,
      unlisted_versions: { "1": 2 },
      failed: [{ tenant_id: "t3", error: "no master key of version 1" }],
    });
  });

  it("on a 401 says the root key it sent, and from where, must equal the server's PLATFORM_ROOT_KEY", async () => {
    // A wrong PLATFORM_ROOT_KEY read "the credential is unknown, expired or revoked", which sent
    // operators looking for an expired key; the server says no more on purpose, the CLI knows more.
    const wrong = "w".repeat(43);
    const run = await plinth(["crypto", "versions", "--url", origin], { PLATFORM_ROOT_KEY: wrong });
    expect(run.status).toBe(4);
    expect(run.stderr).toContain("401 unauthenticated: the credential is unknown, expired or revoked");
    expect(run.stderr).toContain(
      `the platform root key sent (PLATFORM_ROOT_KEY in the environment) must equal the PLATFORM_ROOT_KEY of the plinth at ${origin}`,
    );
    expect(run.stderr).not.toContain(wrong);
    // With --json, the refusal and the hint are each a JSON line a script parses.
    const json = await plinth(["crypto", "versions", "--json", "--url", origin], { PLATFORM_ROOT_KEY: wrong });
    expect(json.status).toBe(4);
    const lines = json.stderr
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ status: 401, code: "unauthenticated" });
    expect(lines[1]).toMatchObject({ hint: "root_key_mismatch" });
    expect(lines[1].detail).toContain(`must equal the PLATFORM_ROOT_KEY of the plinth at ${origin}`);
  });

  it("refuses to run without the platform root key, before any request", async () => {
    requests.length = 0;
    const run = await plinth(["crypto", "versions", "--url", "https://plinth.invalid"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("PLATFORM_ROOT_KEY");
    expect(requests).toEqual([]);
  });
});
