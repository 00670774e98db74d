// `npm start`'s demo tenant (scripts/lib/dev-setup.mjs): created once, its admin key
// kept in a file; when that key is lost (the file deleted, or the key revoked while
// trying `plinth keys revoke`), the platform mints the tenant a new admin key rather
// than telling the operator to delete .wrangler/state and lose everything local.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDemoTenant } from "../../scripts/lib/dev-setup.mjs";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "plinth-demo-"));
let worker: ServedWorker | undefined;

beforeAll(async () => {
  worker = await serveWorker(ROOT);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const served = () => {
  if (!worker) throw new Error("no worker");
  return worker;
};

async function status(pathname: string, key: string, method = "GET"): Promise<number> {
  const res = await fetch(`${served().origin}${pathname}`, { method, headers: { authorization: `Bearer ${key}` } });
  await res.body?.cancel();
  return res.status;
}

describe("the demo tenant of npm start", () => {
  it("keeps its admin key, and mints a new one when the saved key is lost or revoked", async () => {
    const { origin, rootKey } = served();
    const first = await ensureDemoTenant(origin, rootKey, path.join(dir, "a", "demo.json"));
    if ("error" in first) throw new Error(first.error);
    expect(await status("/api/v1/me", first.admin_key)).toBe(200);
    // The same file: the same key.
    expect(await ensureDemoTenant(origin, rootKey, path.join(dir, "a", "demo.json"))).toEqual(first);

    // The file gone (another checkout's state, a clean-up): the tenant exists, its key is not known.
    const lost = await ensureDemoTenant(origin, rootKey, path.join(dir, "b", "demo.json"));
    if ("error" in lost) throw new Error(lost.error);
    expect(lost.tenant_id).toBe(first.tenant_id);
    expect(lost.admin_key).not.toBe(first.admin_key);
    expect(await status("/api/v1/me", lost.admin_key)).toBe(200);

    // The saved key revoked: the next start mints another and saves it.
    const keys = await fetch(`${origin}/api/v1/admin/api-keys`, {
      headers: { authorization: `Bearer ${lost.admin_key}` },
    }).then((r) => r.json() as Promise<{ items: { id: string; prefix: string }[] }>);
    const own = keys.items.find((k) => lost.admin_key.startsWith(k.prefix));
    if (!own) throw new Error("the key is not listed");
    expect(await status(`/api/v1/admin/api-keys/${own.id}`, first.admin_key, "DELETE")).toBe(204);
    const again = await ensureDemoTenant(origin, rootKey, path.join(dir, "b", "demo.json"));
    if ("error" in again) throw new Error(again.error);
    expect(again.admin_key).not.toBe(lost.admin_key);
    expect(await status("/api/v1/me", again.admin_key)).toBe(200);
  });

  it("gives up on a Worker that takes the request and never answers, naming the call and the bound", async () => {
    // A hung workerd held npm start before its banner for ever: fetch had no time bound.
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const origin = `http://127.0.0.1:${port}`;
      const started = Date.now();
      const ran = ensureDemoTenant(origin, "root", path.join(dir, "hung", "demo.json"), { timeout: "1s" });
      await expect(ran).rejects.toThrow(`no answer from ${origin}/api/v1/platform/tenants within 1s`);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("keeps the saved key when the Worker answers /me with an error that is no refusal of the key", async () => {
    // A Worker mid-restart or misconfigured answers 5xx: that says nothing of the key, and
    // minting on it would leave one more unrevoked admin key per start.
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      res.writeHead(503, { "content-type": "application/problem+json" }).end('{"code":"unavailable"}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const file = path.join(dir, "c", "demo.json");
      mkdirSync(path.dirname(file), { recursive: true });
      const saved = { tenant_id: "t1", slug: "demo", admin_key: "plk_dev_saved" };
      writeFileSync(file, JSON.stringify(saved));
      expect(await ensureDemoTenant(`http://127.0.0.1:${port}`, "root", file)).toEqual(saved);
      expect(asked).toEqual(["GET /api/v1/me"]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
