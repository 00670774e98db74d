// The files `npm start` writes secrets to (scripts/lib/dev-setup.mjs) are the owner's alone,
// whatever mode they had before: `cp .dev.vars.example .dev.vars` makes a file others may read
// (0644 under the usual umask), and the root key, JWT signing keys and encryption keys appended
// to it, or a demo admin key written over an older file, kept that mode.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureDemoTenant, ensureDevVars, SecretFileError } from "../../scripts/lib/dev-setup.mjs";

const dir = mkdtempSync(path.join(tmpdir(), "plinth-dev-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe("the secrets npm start writes", () => {
  it("leaves .dev.vars readable by its owner alone when it adds keys to a file others could read", () => {
    const file = path.join(dir, ".dev.vars");
    writeFileSync(file, "# copied from .dev.vars.example\nLOG_LEVEL=debug\n");
    chmodSync(file, 0o644);
    const vars = ensureDevVars(file);
    expect(vars.PLATFORM_ROOT_KEY).toBeTruthy();
    expect(readFileSync(file, "utf8")).toContain(`PLATFORM_ROOT_KEY=${vars.PLATFORM_ROOT_KEY}`);
    expect(modeOf(file)).toBe(0o600);
  });

  it("leaves a .dev.vars that already held every key readable by its owner alone", () => {
    // Written by an npm start from before the files were made the owner's: nothing is added to it,
    // and its keys stayed readable by every user of the machine.
    const first = path.join(dir, "earlier.dev.vars");
    ensureDevVars(first);
    chmodSync(first, 0o644);
    const text = readFileSync(first, "utf8");
    ensureDevVars(first);
    expect(readFileSync(first, "utf8")).toBe(text);
    expect(modeOf(first)).toBe(0o600);
  });

  it("writes a new .dev.vars readable by its owner alone", () => {
    const file = path.join(dir, "fresh.dev.vars");
    ensureDevVars(file);
    expect(modeOf(file)).toBe(0o600);
  });

  it("leaves the demo tenant's key file readable by its owner alone when it saves a new key over an old file", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/api/v1/me") return res.writeHead(401).end();
      res
        .writeHead(201, { "content-type": "application/json" })
        .end(JSON.stringify({ id: "t1", slug: "demo", admin_key: "plk_dev_new" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const file = path.join(dir, "demo.json");
      writeFileSync(file, JSON.stringify({ tenant_id: "t1", slug: "demo", admin_key: "plk_dev_revoked" }));
      chmodSync(file, 0o644);
      const demo = await ensureDemoTenant(`http://127.0.0.1:${port}`, "root", file);
      expect(demo).toEqual({ tenant_id: "t1", slug: "demo", admin_key: "plk_dev_new" });
      expect(modeOf(file)).toBe(0o600);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("leaves the demo tenant's key file readable by its owner alone when its saved key still works", async () => {
    // Saved by an npm start from before the files were made the owner's: kept as it is, its mode too.
    const server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const file = path.join(dir, "kept-demo.json");
      const saved = { tenant_id: "t1", slug: "demo", admin_key: "plk_dev_still_good" };
      writeFileSync(file, JSON.stringify(saved));
      chmodSync(file, 0o644);
      expect(await ensureDemoTenant(`http://127.0.0.1:${port}`, "root", file)).toEqual(saved);
      expect(modeOf(file)).toBe(0o600);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/**
 * The file calls of a user who does not own the files: each call named in `refusing` throws what
 * Node throws for it (a test run as root never meets EPERM from chmod, so the refusal is handed in).
 */
function anotherUsersFiles(refusing: Partial<Record<"chmodSync" | "readFileSync" | "writeFileSync", string>>) {
  const refuse = (call: keyof typeof refusing, file: string) => {
    const code = refusing[call];
    if (code === undefined) return;
    throw Object.assign(new Error(`${code}: operation not permitted, ${call} '${file}'`), { code });
  };
  return {
    chmodSync: (file: string, mode: number) => {
      refuse("chmodSync", file);
      chmodSync(file, mode);
    },
    readFileSync: (file: string, encoding: "utf8") => {
      refuse("readFileSync", file);
      return readFileSync(file, encoding);
    },
    writeFileSync: (file: string, text: string, options: { mode: number }) => {
      refuse("writeFileSync", file);
      writeFileSync(file, text, options);
    },
  };
}

describe("a secret file another user owns (made by sudo npm start, a shared checkout)", () => {
  it("a .dev.vars others may read that this user cannot chmod stops npm start with one line naming the fix", () => {
    // The chmod's EPERM ended npm start with a stack trace.
    const file = path.join(dir, "sudo.dev.vars");
    ensureDevVars(file);
    chmodSync(file, 0o644);
    const run = () => ensureDevVars(file, anotherUsersFiles({ chmodSync: "EPERM" }));
    expect(run).toThrow(SecretFileError);
    expect(run).toThrow(
      `chmod 600 ${file} failed (EPERM): is it another user's (made by sudo)? Run \`sudo chown $USER ${file}\` and \`chmod 600 ${file}\`, then npm start again`,
    );
    expect(modeOf(file)).toBe(0o644);
  });

  it("a .dev.vars already the owner's alone is used as it is, without a chmod this user would be refused", () => {
    const file = path.join(dir, "kept.dev.vars");
    const first = ensureDevVars(file);
    expect(ensureDevVars(file, anotherUsersFiles({ chmodSync: "EPERM" }))).toEqual(first);
    expect(modeOf(file)).toBe(0o600);
  });

  it("a .dev.vars this user cannot read or write is the same one line, not a stack trace", () => {
    const file = path.join(dir, "unreadable.dev.vars");
    ensureDevVars(file);
    expect(() => ensureDevVars(file, anotherUsersFiles({ readFileSync: "EACCES" }))).toThrow(
      `reading ${file} failed (EACCES): is it another user's (made by sudo)?`,
    );
    const partial = path.join(dir, "partial.dev.vars");
    writeFileSync(partial, "LOG_LEVEL=debug\n", { mode: 0o600 });
    expect(() => ensureDevVars(partial, anotherUsersFiles({ writeFileSync: "EACCES" }))).toThrow(
      `writing ${partial} failed (EACCES): is it another user's (made by sudo)?`,
    );
  });

  it("a demo key file others may read that this user cannot chmod makes the demo tenant unavailable, saying why", async () => {
    const server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const file = path.join(dir, "sudo-demo.json");
      writeFileSync(file, JSON.stringify({ tenant_id: "t1", slug: "demo", admin_key: "plk_dev_sudo" }));
      chmodSync(file, 0o644);
      const files = anotherUsersFiles({ chmodSync: "EPERM" });
      await expect(ensureDemoTenant(`http://127.0.0.1:${port}`, "root", file, { files })).rejects.toThrow(
        `chmod 600 ${file} failed (EPERM): is it another user's (made by sudo)?`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
