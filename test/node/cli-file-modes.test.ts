// The files of the `plinth` CLI on an operator's machine: an audit export it writes holds a
// tenant's personal data (who did what, their emails), so it is its owner's alone (0600), also
// over an older export; a key file it reads that others may read is warned of (never its key).
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { plinth, serving } from "./plinth-cli";

const scratch = mkdtempSync(path.join(tmpdir(), "plinth-cli-file-modes-"));
const EXPORT = '{"seq":1,"action":"identity.user.registered","actor":"ada@example.com"}\n{"checkpoint":{}}\n';

// A stand-in plinth answering the audit export (and any other GET) with the same NDJSON.
const standIn = serving("application/x-ndjson", () => EXPORT);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const modeOf = (file: string) => statSync(file).mode & 0o777;
const env = { PLINTH_KEY: "plk_dev_0123456789abcdef" };

describe("audit export --out", () => {
  it("writes a new file readable by its owner alone", async () => {
    const out = path.join(scratch, "audit-new.ndjson");
    const run = await plinth(["audit", "export", "--out", out, "--url", standIn.url()], env);
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(EXPORT);
    expect(modeOf(out)).toBe(0o600);
  });

  it("replaces an older export others could read with one its owner alone reads", async () => {
    // writeFileSync's mode applies only to a file it creates: the older 0644 file kept its mode.
    const out = path.join(scratch, "audit-old.ndjson");
    writeFileSync(out, "an older, longer export that the new one must replace entirely\n".repeat(4));
    chmodSync(out, 0o644);
    const run = await plinth(["audit", "export", "--out", out, "--url", standIn.url()], env);
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(EXPORT);
    expect(modeOf(out)).toBe(0o600);
  });
});

describe("--key-file others may read", () => {
  const KEY = "plk_dev_SECRETPART0123456789";

  it("is warned of on stderr, naming the file and its mode, never the key, and the command still runs", async () => {
    // It was taken silently: ssh refuses such a private key, plinth said nothing.
    const keyFile = path.join(scratch, "open-key");
    writeFileSync(keyFile, `${KEY}\n`);
    chmodSync(keyFile, 0o644);
    const run = await plinth(["audit", "export", "--key-file", keyFile, "--url", standIn.url()]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(EXPORT);
    expect(run.stderr).toBe(
      `plinth: warning: --key-file ${keyFile} is open to other users of this machine (mode 0644), who may read the key in it: make it yours alone with chmod 600 ${keyFile}\n`,
    );
    const json = await plinth(["audit", "export", "--json", "--key-file", keyFile, "--url", standIn.url()]);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stderr)).toEqual(
      expect.objectContaining({ warning: "key_file_open", file: keyFile, mode: "0644" }),
    );
    expect(run.stderr + json.stderr).not.toContain("SECRETPART");
  });

  it("is not warned of once it is its owner's alone", async () => {
    const keyFile = path.join(scratch, "own-key");
    writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    const run = await plinth(["audit", "export", "--key-file", keyFile, "--url", standIn.url()]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
  });
});
