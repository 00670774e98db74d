import { execFile } from "node:child_process";
import { createPublicKey, sign as edSign, verify as edVerify, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  entryHash as cliEntryHash,
  type ExportCheckpoint,
  GENESIS_HASH,
  importJwks,
  parseExport,
  verifyExport,
} from "../../scripts/lib/audit-chain.mjs";
import { type AuditEntry, entryHash } from "../../src/modules/audit/chain";
import { buildChain, FIELDS, mutants } from "../audit-mutations";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "plinth-audit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TENANT = "tenant-1";

async function signer() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const { x } = publicKey.export({ format: "jwk" });
  const jwks = { keys: [{ kty: "OKP", crv: "Ed25519", x, kid: "k-test", alg: "EdDSA", use: "sig" }] };
  // As the AuditLog signs now: version 2, over its signed_at too (an empty log's seq 0 always). Version 1
  // (the default at seq > 0 here) as checkpoints stored before versions were signed: tenant, seq, hash.
  const sign = async (
    seq: number,
    hash: string,
    tenant = TENANT,
    signed_at = "2026-01-02T00:00:00.000Z",
    version: 1 | 2 = seq === 0 ? 2 : 1,
  ): Promise<ExportCheckpoint> => {
    const message =
      version === 2 ? `plinth-audit-checkpoint/v2:${tenant}:${seq}:${hash}:${signed_at}` : `${tenant}:${seq}:${hash}`;
    const sig = edSign(null, Buffer.from(message, "utf8"), privateKey);
    const signature = sig.toString("base64url");
    return version === 2
      ? { v: 2, seq, hash, signed_at, kid: "k-test", signature }
      : { seq, hash, signed_at, kid: "k-test", signature };
  };
  return { jwks, sign };
}

const toNdjson = (entries: unknown[], checkpoint: ExportCheckpoint | null) =>
  [...entries, ...(checkpoint ? [{ checkpoint, tenant_id: TENANT }] : [])]
    .map((v) => `${JSON.stringify(v)}\n`)
    .join("");

describe("offline audit verification (scripts/lib/audit-chain.mjs)", () => {
  it("the CLI hashes an entry exactly as the Worker does, for random field values", () => {
    const text = fc.string({ unit: "binary", maxLength: 40 });
    const entry = fc.record({
      seq: fc.integer({ min: 1, max: 2 ** 31 }),
      at: text,
      actor: fc.record({ kind: text, id: fc.option(text, { nil: null }) }),
      action: text,
      target: fc.option(text, { nil: null }),
      request_id: fc.option(text, { nil: null }),
      ip_hash: fc.option(text, { nil: null }),
      prev_hash: text,
    });
    fc.assert(
      fc.property(entry, (e) => {
        expect(cliEntryHash(e)).toBe(entryHash(e));
      }),
      { numRuns: 500 },
    );
  });

  it("detects every single-field change, deletion and adjacent swap in a 250-entry chain", async () => {
    const entries = buildChain(250);
    const { sign } = await signer();
    const last = entries.at(-1) as AuditEntry;
    const checkpoint = await sign(last.seq, last.hash);
    const intact = await verifyExport(parseExport(toNdjson(entries, checkpoint)));
    expect(intact).toMatchObject({ ok: true, entries: 250, last_seq: 250, last_hash: last.hash });

    const tampered = mutants(entries);
    const missed: string[] = [];
    for (const m of tampered) {
      const result = await verifyExport(parseExport(toNdjson(m.entries, checkpoint)));
      if (result.ok) missed.push(m.name);
    }
    console.log(
      `audit mutation sweep (CLI verifier): tried ${tampered.length}, detected ${tampered.length - missed.length}`,
    );
    expect(tampered.length).toBe(250 * FIELDS.length + 250 + 249);
    expect(missed).toEqual([]);
    // ~3 s alone; seconds more when the machine's two cores are busy.
  }, 60_000);

  it("checks the checkpoint signature against a JWKS", async () => {
    const entries = buildChain(3);
    const { jwks, sign } = await signer();
    const good = await sign(3, (entries.at(-1) as AuditEntry).hash);
    const keys = await importJwks(jwks);
    expect(await verifyExport(parseExport(toNdjson(entries, good)), keys)).toMatchObject({
      ok: true,
      signature: "valid",
    });
    const forged = { ...good, signature: (await sign(2, good.hash)).signature };
    expect(await verifyExport(parseExport(toNdjson(entries, forged)), keys)).toMatchObject({
      ok: false,
      broken_seq: 3,
    });
  });

  it("vouches for no empty export and no checkpoint line without a checkpoint in it", async () => {
    expect(await verifyExport(parseExport(""))).toMatchObject({ ok: false, entries: 0, problem: "empty_export" });
    const hollow = ['{"checkpoint":null}', '{"checkpoint":{}}', '{"checkpoint":7}', '{"checkpoint":{"seq":0}}'];
    const negative = { seq: -1, hash: GENESIS_HASH, kid: "k-test", signature: "AA" };
    for (const line of [...hollow, JSON.stringify({ checkpoint: negative, tenant_id: TENANT })]) {
      expect(await verifyExport(parseExport(`${line}\n`)), line).toMatchObject({
        ok: false,
        problem: "malformed_checkpoint",
      });
    }
    const entries = buildChain(3);
    expect(await verifyExport(parseExport(toNdjson(entries, {} as ExportCheckpoint)))).toMatchObject({
      ok: false,
      problem: "malformed_checkpoint",
    });
  });
});

describe("plinth audit verify (CLI)", () => {
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ["scripts/plinth.mjs", ...args]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it("exits 0 on an intact export, 1 with the first broken seq on a tampered one, 2 on misuse", async () => {
    const entries = buildChain(20);
    const { jwks, sign } = await signer();
    const checkpoint = await sign(20, (entries.at(-1) as AuditEntry).hash);
    const intact = join(dir, "intact.ndjson");
    const broken = join(dir, "broken.ndjson");
    const jwksFile = join(dir, "jwks.json");
    writeFileSync(intact, toNdjson(entries, checkpoint));
    writeFileSync(
      broken,
      toNdjson(
        entries.map((e) => (e.seq === 7 ? { ...e, action: "nothing.to.see" } : e)),
        checkpoint,
      ),
    );
    writeFileSync(jwksFile, JSON.stringify(jwks));

    const ok = await cli("audit", "verify", intact, "--jwks", jwksFile);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ok: tenant "tenant-1", 20 entries, last seq 20, signature valid');

    const bad = await cli("audit", "verify", broken);
    expect(bad.code).toBe(1);
    expect(bad.stdout.trim()).toBe("broken at seq 7");

    // Truncated below the checkpoint: the chain is fine but shorter than what was signed.
    const truncated = join(dir, "truncated.ndjson");
    writeFileSync(truncated, toNdjson(entries.slice(0, 19), checkpoint));
    expect((await cli("audit", "verify", truncated)).stdout.trim()).toBe(
      "broken at seq 20: the file ends at seq 19, the checkpoint covers up to seq 20",
    );
    // Cut to its first entry and the checkpoint: the first entry missing is named, not the checkpoint's seq.
    const kept = join(dir, "first-and-checkpoint.ndjson");
    writeFileSync(kept, toNdjson(entries.slice(0, 1), checkpoint));
    const firstOnly = await cli("audit", "verify", kept);
    expect(firstOnly.code).toBe(1);
    expect(firstOnly.stdout.trim()).toBe("broken at seq 2: the file ends at seq 1, the checkpoint covers up to seq 20");
    // The checkpoint line twice: an export has exactly one.
    const twice = join(dir, "twice.ndjson");
    writeFileSync(twice, `${toNdjson(entries, checkpoint)}\n${JSON.stringify({ checkpoint, tenant_id: TENANT })}\n`);
    const doubled = await cli("audit", "verify", twice);
    expect(doubled.code).toBe(1);
    expect(doubled.stdout.trim()).toBe("broken: more than one checkpoint line; an export ends with exactly one");

    // The checkpoint line removed (`head -n -1`), or the file cut anywhere before it
    // (`head -2`): every export closes with one, so its absence is a cut.
    for (const [name, lines] of [
      ["no-checkpoint", entries],
      ["head-2", entries.slice(0, 2)],
    ] as const) {
      const file = join(dir, `${name}.ndjson`);
      writeFileSync(file, toNdjson(lines, null));
      const cut = await cli("audit", "verify", file);
      expect(cut.code).toBe(1);
      expect(cut.stdout.trim()).toBe(
        `broken: no checkpoint line after the ${lines.length} entries; every export ends with one, so this file was cut short or the line removed`,
      );
    }

    // Entries appended past the checkpoint are not what it signed.
    const extended = join(dir, "extended.ndjson");
    writeFileSync(extended, toNdjson(entries, await sign(18, (entries[17] as AuditEntry).hash)));
    const past = await cli("audit", "verify", extended);
    expect(past.code).toBe(1);
    expect(past.stdout.trim()).toBe("broken at seq 19: entries after the checkpoint, which does not cover them");

    // A checkpoint signature that fails is not an entry changed: say which it is.
    const otherJwks = join(dir, "other-jwks.json");
    writeFileSync(otherJwks, JSON.stringify((await signer()).jwks));
    const stranger = await cli("audit", "verify", intact, "--jwks", otherJwks);
    expect(stranger.code).toBe(1);
    expect(stranger.stdout).toContain('verify with key "k-test"');
    const forged = join(dir, "forged.ndjson");
    writeFileSync(forged, toNdjson(entries, { ...checkpoint, signature: (await sign(19, checkpoint.hash)).signature }));
    const badSignature = await cli("audit", "verify", forged, "--jwks", jwksFile);
    expect(badSignature.code).toBe(1);
    expect(badSignature.stdout.trim()).toBe(
      'broken at seq 20: the entries recompute, but the checkpoint\'s signature does not verify with key "k-test" (the checkpoint line or its tenant_id was changed)',
    );
    const emptyJwks = join(dir, "empty-jwks.json");
    writeFileSync(emptyJwks, JSON.stringify({ keys: [] }));
    const unknown = await cli("audit", "verify", intact, "--jwks", emptyJwks);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(
      /^unverified at seq 20: the checkpoint is signed with key "k-test", which the JWKS does not hold/,
    );

    // A JSON page that is not a key set (a wrong --jwks URL): misuse, named, not "unverified".
    const notJwks = join(dir, "not-jwks.json");
    writeFileSync(notJwks, JSON.stringify({ status: "ok" }));
    const wrong = await cli("audit", "verify", intact, "--jwks", notJwks);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('cannot load the JWKS: not a JWKS: no "keys" array');

    // A --jwks URL nothing answers at, or a page that is not JSON (a wrong port): the URL and
    // why, not fetch's bare "fetch failed" or JSON.parse's "Unexpected token '<'".
    const page = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/html" }).end("<html>not a key set</html>");
    });
    await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
    const address = page.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const pageUrl = `http://127.0.0.1:${address.port}/.well-known/jwks.json`;
    try {
      const html = await cli("audit", "verify", intact, "--jwks", pageUrl);
      expect(html.code).toBe(2);
      expect(html.stderr).toContain(`cannot load the JWKS: ${pageUrl} answered 200 with text/html, not JSON`);
    } finally {
      await new Promise((resolve) => page.close(resolve));
    }
    // The port is free now: nothing listens there.
    const dead = await cli("audit", "verify", intact, "--jwks", pageUrl);
    expect(dead.code).toBe(2);
    expect(dead.stderr).toContain(`cannot load the JWKS: cannot reach ${pageUrl}: ECONNREFUSED`);

    // A --jwks URL that takes the connection and never answers, or sends its headers and then
    // nothing: named after --timeout, not held for Node's 300 s.
    const silent = createServer(() => undefined);
    const stalled = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"keys": [');
    });
    const urlOf = async (server: typeof page) => {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const bound = server.address();
      if (bound === null || typeof bound === "string") throw new Error("no port");
      return `http://127.0.0.1:${bound.port}/.well-known/jwks.json`;
    };
    try {
      for (const url of [await urlOf(silent), await urlOf(stalled)]) {
        const late = await cli("audit", "verify", intact, "--jwks", url, "--timeout", "1s");
        expect(late.code, url).toBe(2);
        expect(late.stderr).toContain(`cannot load the JWKS: no answer from ${url} within 1s (--timeout)`);
      }
    } finally {
      silent.closeAllConnections();
      stalled.closeAllConnections();
      await Promise.all([silent, stalled].map((s) => new Promise((resolve) => s.close(resolve))));
    }
    expect((await cli("audit", "verify", intact, "--jwks", pageUrl, "--timeout", "soon")).code).toBe(2);
    expect((await cli("audit", "verify", intact, "--jwks", pageUrl, "--timeout", "2d")).code).toBe(2);

    expect((await cli("audit", "verify")).code).toBe(2);
    expect((await cli("audit", "verify", join(dir, "missing.ndjson"))).code).toBe(2);
    expect((await cli("nope")).code).toBe(2);
  });

  it("passes nothing that proves nothing: an empty file is unverifiable, a checkpoint line with no checkpoint broken", async () => {
    // A file cut to nothing (or an empty log's export from before it held a checkpoint at seq 0) proves nothing.
    const empty = join(dir, "empty.ndjson");
    writeFileSync(empty, "");
    const none = await cli("audit", "verify", empty);
    expect(none.code).toBe(1);
    expect(none.stdout.trim()).toBe(
      "unverifiable: empty export (no entries, no checkpoint): nothing in it is signed, so it proves nothing, not even that the log is empty; an empty log's export holds a checkpoint at seq 0 (export it again), and GET /api/v1/admin/audit/verify tells how many entries the log holds",
    );

    // Cut down to a checkpoint line holding no checkpoint: plinth never writes one.
    const nullLine = join(dir, "null-checkpoint.ndjson");
    writeFileSync(nullLine, '{"checkpoint":null}\n');
    const nothing = await cli("audit", "verify", nullLine);
    expect(nothing.code).toBe(1);
    expect(nothing.stdout.trim()).toBe(
      "broken: the checkpoint line holds no checkpoint (an export's holds the seq, hash, kid and signature of its last entry)",
    );

    // Entries closed by a checkpoint with no seq or hash: it covers nothing, so they are not what was signed.
    const entries = buildChain(3);
    const hollow = join(dir, "hollow-checkpoint.ndjson");
    writeFileSync(hollow, toNdjson(entries, {} as ExportCheckpoint));
    const covered = await cli("audit", "verify", hollow);
    expect(covered.code).toBe(1);
    expect(covered.stdout.trim()).toBe(
      "broken: the checkpoint line holds no checkpoint (an export's holds the seq, hash, kid and signature of its last entry)",
    );
  });

  it("verifies an empty log's export, a checkpoint at seq 0 over the genesis hash, and still catches a cut", async () => {
    const { jwks, sign } = await signer();
    const jwksFile = join(dir, "empty-log-jwks.json");
    writeFileSync(jwksFile, JSON.stringify(jwks));
    const genesis = await sign(0, GENESIS_HASH);
    // The signature checked apart from the CLI, with node:crypto and the JWKS's public key.
    const [jwk] = jwks.keys;
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk?.x }, format: "jwk" });
    const signed = (tenant: string) =>
      Buffer.from(`plinth-audit-checkpoint/v2:${tenant}:0:${GENESIS_HASH}:${genesis.signed_at}`, "utf8");
    expect(edVerify(null, signed(TENANT), publicKey, Buffer.from(genesis.signature, "base64url"))).toBe(true);
    expect(edVerify(null, signed("tenant-2"), publicKey, Buffer.from(genesis.signature, "base64url"))).toBe(false);

    const emptyLog = join(dir, "empty-log.ndjson");
    writeFileSync(emptyLog, toNdjson([], genesis));
    const proved = await cli("audit", "verify", emptyLog, "--jwks", jwksFile);
    expect(proved.stderr).toBe("");
    expect(proved.code).toBe(0);
    expect(proved.stdout.trim()).toBe('ok: tenant "tenant-1", empty as of 2026-01-02T00:00:00.000Z, signature valid');
    // Without --jwks, as for any export: the chain checks, the signature is not looked at.
    const unchecked = await cli("audit", "verify", emptyLog);
    expect(unchecked.code).toBe(0);
    expect(unchecked.stdout.trim()).toBe(
      'ok: tenant "tenant-1", empty as of 2026-01-02T00:00:00.000Z, signature not checked (no --jwks)',
    );

    const verdict = async (name: string, text: string, ...args: string[]) => {
      const file = join(dir, `${name}.ndjson`);
      writeFileSync(file, text);
      const out = await cli("audit", "verify", file, ...args);
      return { code: out.code, line: out.stdout.trim() };
    };
    // Signed for another tenant (its tenant_id changed), or a signature of something else.
    const otherTenant = `${JSON.stringify({ checkpoint: genesis, tenant_id: "tenant-2" })}\n`;
    expect(await verdict("empty-other-tenant", otherTenant, "--jwks", jwksFile)).toEqual({
      code: 1,
      line: 'broken at seq 0: the entries recompute, but the checkpoint\'s signature does not verify with key "k-test" (the checkpoint line or its tenant_id was changed)',
    });
    const forged = { ...genesis, signature: (await sign(1, GENESIS_HASH)).signature };
    expect((await verdict("empty-forged", toNdjson([], forged), "--jwks", jwksFile)).code).toBe(1);
    // A head at seq 0 that is not the genesis hash is no empty chain's, even if signed.
    const notGenesis = await sign(0, "f".repeat(64));
    expect(await verdict("empty-not-genesis", toNdjson([], notGenesis), "--jwks", jwksFile)).toEqual({
      code: 1,
      line: "broken at seq 0",
    });
    // A key the JWKS lacks: unverified, as for any checkpoint.
    const strangerJwks = join(dir, "empty-log-stranger-jwks.json");
    writeFileSync(strangerJwks, JSON.stringify({ keys: [] }));
    const stranger = await verdict("empty-stranger", toNdjson([], genesis), "--jwks", strangerJwks);
    expect(stranger.code).toBe(1);
    expect(stranger.line).toMatch(/^unverified at seq 0: the checkpoint is signed with key "k-test"/);

    // Entries put before an empty log's checkpoint are vouched for by nothing.
    const entries = buildChain(20);
    expect(await verdict("entries-before-genesis", toNdjson(entries, genesis), "--jwks", jwksFile)).toEqual({
      code: 1,
      line: "broken at seq 1: entries after the checkpoint, which does not cover them",
    });
    // A non-empty export with every entry removed is no empty log's: its checkpoint covers seq 20.
    const checkpoint = await sign(20, (entries.at(-1) as AuditEntry).hash);
    expect(await verdict("all-entries-removed", toNdjson([], checkpoint), "--jwks", jwksFile)).toEqual({
      code: 1,
      line: "broken at seq 1: the file ends at seq 0, the checkpoint covers up to seq 20",
    });
    // The checkpoint line removed too, or the last lines cut: still not ok.
    expect((await verdict("cut-to-nothing", "", "--jwks", jwksFile)).line).toMatch(/^unverifiable: empty export/);
    expect((await verdict("tail-cut", toNdjson(entries.slice(0, 18), null), "--jwks", jwksFile)).code).toBe(1);
  });

  it("names whose log it verified, and with --tenant refuses another tenant's export, an empty one's above all", async () => {
    // Any tenant's empty log exports a signed seq 0 (a tenant made for it, a minute old, has one): handed
    // over as tenant-1's export, it verified "ok: 0 entries, ... signature valid" and named nobody, so a
    // tenant-1 log of thousands of entries passed for empty. Its signature is good: it is tenant-2's.
    const { jwks, sign } = await signer();
    const jwksFile = join(dir, "whose-jwks.json");
    writeFileSync(jwksFile, JSON.stringify(jwks));
    const file = join(dir, "another-tenants-empty-log.ndjson");
    const othersEmpty = await sign(0, GENESIS_HASH, "tenant-2");
    writeFileSync(file, `${JSON.stringify({ checkpoint: othersEmpty, tenant_id: "tenant-2" })}\n`);
    const named = await cli("audit", "verify", file, "--jwks", jwksFile);
    expect(named.code).toBe(0);
    expect(named.stdout.trim()).toBe('ok: tenant "tenant-2", empty as of 2026-01-02T00:00:00.000Z, signature valid');
    const refused = await cli("audit", "verify", file, "--jwks", jwksFile, "--tenant", "tenant-1");
    expect(refused.code).toBe(1);
    expect(refused.stdout.trim()).toBe(
      'broken: this is the export of tenant "tenant-2", not of tenant "tenant-1" (--tenant); its signature vouches for tenant-2\'s log only',
    );
    expect((await cli("audit", "verify", file, "--jwks", jwksFile, "--tenant", "tenant-2")).code).toBe(0);
    // A file naming no tenant (its checkpoint line removed) is not tenant-1's either.
    const entries = buildChain(3);
    const noLine = join(dir, "no-tenant.ndjson");
    writeFileSync(noLine, toNdjson(entries, null));
    expect((await cli("audit", "verify", noLine, "--tenant", "tenant-1")).code).toBe(1);
    expect((await cli("audit", "verify", file, "--tenant")).code).toBe(2);
  });

  it("says when an empty log was empty, by a signature over that time, and with --max-age demands a fresh one", async () => {
    // A seq-0 checkpoint signed once, before the first entry, verified for ever, and its signed_at was not
    // signed: a grown log's export was handed over as that one line, its date edited to today.
    const { jwks, sign } = await signer();
    const jwksFile = join(dir, "max-age-jwks.json");
    writeFileSync(jwksFile, JSON.stringify(jwks));
    const verdict = async (name: string, checkpoint: ExportCheckpoint, ...args: string[]) => {
      const file = join(dir, `${name}.ndjson`);
      writeFileSync(file, toNdjson([], checkpoint));
      const out = await cli("audit", "verify", file, ...args);
      return { code: out.code, line: out.stdout.trim(), stderr: out.stderr };
    };
    const old = await sign(0, GENESIS_HASH, TENANT, "2026-01-02T00:00:00.000Z");
    // The signature checked apart from the CLI, with node:crypto and the JWKS's public key: it covers the time.
    const [jwk] = jwks.keys;
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk?.x }, format: "jwk" });
    const message = (at: string) => Buffer.from(`plinth-audit-checkpoint/v2:${TENANT}:0:${GENESIS_HASH}:${at}`, "utf8");
    const signature = Buffer.from(old.signature, "base64url");
    expect(edVerify(null, message(old.signed_at), publicKey, signature)).toBe(true);
    const today = new Date().toISOString();
    expect(edVerify(null, message(today), publicKey, signature)).toBe(false);

    // The date edited: broken, exit 1.
    expect(await verdict("empty-date-edited", { ...old, signed_at: today }, "--jwks", jwksFile)).toEqual({
      code: 1,
      line: 'broken at seq 0: the entries recompute, but the checkpoint\'s signature does not verify with key "k-test" (the checkpoint line or its tenant_id was changed)',
      stderr: "",
    });
    // A seq-0 checkpoint without a time says nothing of when: no checkpoint.
    const { signed_at: _at, ...timeless } = old;
    expect((await verdict("empty-no-date", timeless as ExportCheckpoint, "--jwks", jwksFile)).code).toBe(1);

    // Older than --max-age: exit 1, naming when it was signed; a fresh one passes.
    expect(await verdict("empty-too-old", old, "--jwks", jwksFile, "--max-age", "1h")).toMatchObject({
      code: 1,
      line: expect.stringMatching(
        /^stale: tenant "tenant-1"'s log was empty as of 2026-01-02T00:00:00.000Z, more than 1h ago \(--max-age\)/,
      ),
    });
    const fresh = await sign(0, GENESIS_HASH, TENANT, new Date(Date.now() - 60_000).toISOString());
    const ok = await verdict("empty-fresh", fresh, "--jwks", jwksFile, "--max-age", "1h");
    expect(ok).toEqual({
      code: 0,
      line: `ok: tenant "tenant-1", empty as of ${fresh.signed_at}, signature valid`,
      stderr: "",
    });
    expect((await verdict("empty-fresh-days", old, "--jwks", jwksFile, "--max-age", "100000d")).code).toBe(0);

    // Only a signed time says how fresh: without --jwks, or a bad duration, it is misuse (exit 2) ...
    expect((await verdict("empty-no-jwks", fresh, "--max-age", "1h")).code).toBe(2);
    for (const bad of ["", "1", "1w", "-1h", "0h", "h"])
      expect((await verdict("empty-bad-age", fresh, "--jwks", jwksFile, "--max-age", bad)).code).toBe(2);
    // ... and a log with entries whose version 1 checkpoint does not sign its time cannot show it: exit 1.
    const entries = buildChain(3);
    const grown = join(dir, "grown-max-age.ndjson");
    writeFileSync(grown, toNdjson(entries, await sign(3, (entries.at(-1) as AuditEntry).hash)));
    const unsigned = await cli("audit", "verify", grown, "--jwks", jwksFile, "--max-age", "1h");
    expect(unsigned.code).toBe(1);
    expect(unsigned.stdout.trim()).toMatch(
      /^unverifiable: --max-age: the checkpoint at seq 3 is a version 1 checkpoint \(no "v": 2\), whose signature does not cover its signed_at/,
    );
    expect((await cli("audit", "verify", grown, "--jwks", jwksFile)).code).toBe(0);
  });

  it("a version 2 checkpoint at any seq signs its time, so --max-age bounds it; a version 1 one still verifies", async () => {
    // Checkpoints at seq > 0 signed `<tenant>:<seq>:<hash>`: their signed_at could be edited to today, and
    // --max-age could not vouch for any export with entries. Every new checkpoint is version 2.
    const { jwks, sign } = await signer();
    const jwksFile = join(dir, "v2-jwks.json");
    writeFileSync(jwksFile, JSON.stringify(jwks));
    const entries = buildChain(5);
    const head = (entries.at(-1) as AuditEntry).hash;
    const verdict = async (name: string, checkpoint: unknown, ...args: string[]) => {
      const file = join(dir, `${name}.ndjson`);
      writeFileSync(file, toNdjson(entries, checkpoint as ExportCheckpoint));
      const out = await cli("audit", "verify", file, ...args);
      return { code: out.code, line: out.stdout.trim(), stderr: out.stderr };
    };
    const freshAt = new Date(Date.now() - 60_000).toISOString();
    const fresh = await sign(5, head, TENANT, freshAt, 2);
    const old = await sign(5, head, TENANT, "2026-01-02T00:00:00.000Z", 2);

    // The signature checked apart from the CLI, with node:crypto and the JWKS's public key: it covers
    // the prefixed version 2 message with the time, and is no version 1 signature of the same head.
    const [jwk] = jwks.keys;
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk?.x }, format: "jwk" });
    const signature = Buffer.from(fresh.signature, "base64url");
    const utf8 = (text: string) => Buffer.from(text, "utf8");
    expect(
      edVerify(null, utf8(`plinth-audit-checkpoint/v2:${TENANT}:5:${head}:${freshAt}`), publicKey, signature),
    ).toBe(true);
    expect(edVerify(null, utf8(`${TENANT}:5:${head}`), publicKey, signature)).toBe(false);
    expect(
      edVerify(null, utf8(`plinth-audit-checkpoint/v2:${TENANT}:5:${head}:${old.signed_at}`), publicKey, signature),
    ).toBe(false);

    // Fresh enough: exit 0, saying as of when; older than --max-age: stale, exit 1.
    expect(await verdict("v2-fresh", fresh, "--jwks", jwksFile, "--max-age", "1h")).toEqual({
      code: 0,
      line: `ok: tenant "tenant-1", 5 entries, last seq 5, as of ${freshAt}, signature valid`,
      stderr: "",
    });
    expect(await verdict("v2-old", old, "--jwks", jwksFile, "--max-age", "1h")).toEqual({
      code: 1,
      line: 'stale: tenant "tenant-1"\'s log reached seq 5 as of 2026-01-02T00:00:00.000Z, more than 1h ago (--max-age); it may have entries since: export it again',
      stderr: "",
    });
    expect((await verdict("v2-old-lenient", old, "--jwks", jwksFile, "--max-age", "100000d")).code).toBe(0);
    // Its date edited to today: the signature covers it, so broken.
    const sigFails =
      'broken at seq 5: the entries recompute, but the checkpoint\'s signature does not verify with key "k-test" (the checkpoint line or its tenant_id was changed)';
    expect(
      await verdict("v2-date-edited", { ...old, signed_at: freshAt }, "--jwks", jwksFile, "--max-age", "1h"),
    ).toEqual({ code: 1, line: sigFails, stderr: "" });
    // Presented as the other version: a version 2 signature is no version 1 one, and the reverse.
    const { v: _v, ...asV1 } = fresh;
    expect(await verdict("v2-as-v1", asV1, "--jwks", jwksFile)).toEqual({ code: 1, line: sigFails, stderr: "" });
    const v1 = await sign(5, head, TENANT, freshAt, 1);
    expect(await verdict("v1-as-v2", { ...v1, v: 2 }, "--jwks", jwksFile)).toEqual({
      code: 1,
      line: sigFails,
      stderr: "",
    });
    // A version 1 export (stored before versions) verifies as before, but --max-age cannot bound it.
    expect(await verdict("v1", v1, "--jwks", jwksFile)).toEqual({
      code: 0,
      line: 'ok: tenant "tenant-1", 5 entries, last seq 5, signature valid',
      stderr: "",
    });
    const v1Aged = await verdict("v1-max-age", v1, "--jwks", jwksFile, "--max-age", "1h");
    expect(v1Aged.code).toBe(1);
    expect(v1Aged.line).toMatch(/^unverifiable: --max-age: the checkpoint at seq 5 is a version 1 checkpoint/);
    // No other version exists, and an empty log's seq 0 has none but 2: no checkpoint.
    const hollow =
      "broken: the checkpoint line holds no checkpoint (an export's holds the seq, hash, kid and signature of its last entry)";
    expect(await verdict("v3", { ...fresh, v: 3 }, "--jwks", jwksFile)).toEqual({ code: 1, line: hollow, stderr: "" });
    const { v: _v0, ...unversionedEmpty } = await sign(0, GENESIS_HASH);
    const file = join(dir, "unversioned-empty.ndjson");
    writeFileSync(file, toNdjson([], unversionedEmpty as ExportCheckpoint));
    expect((await cli("audit", "verify", file, "--jwks", jwksFile)).stdout.trim()).toBe(hollow);
  });
});
