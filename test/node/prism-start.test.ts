// Starting the validating proxy (test/node/proxy/prism.ts): Prism binds a port itself (`--port 0`)
// and the origin is read back from its output, so no other suite can take the port in between.
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listeningOrigin, type Prism, startPrism } from "./proxy/prism";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("listeningOrigin", () => {
  it("reads the origin from Prism's start line, whatever its prefix", () => {
    const line = "[8:55:45 AM] › [CLI] ▶  start     Prism is listening on http://127.0.0.1:35211";
    expect(listeningOrigin(line)).toBe("http://127.0.0.1:35211");
    expect(listeningOrigin(`${line}\r`)).toBe("http://127.0.0.1:35211");
  });

  it("reads nothing from other lines, such as an operation's example URL on the same origin", () => {
    expect(listeningOrigin("[CLI] ℹ  info      GET        http://127.0.0.1:35211/x")).toBeUndefined();
    expect(listeningOrigin("[CLI] …  awaiting  Starting Prism…")).toBeUndefined();
  });

  it("reads a start line only when the origin ends it (startPrism hands it whole lines only)", () => {
    expect(listeningOrigin("Prism is listening on http://127.0.0.1:35211 and more")).toBeUndefined();
    expect(listeningOrigin("Prism is listening on http://127.0.0.1:35211/x")).toBeUndefined();
  });
});

describe("startPrism", () => {
  const upstream: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true }));
  });
  const docDir = mkdtempSync(path.join(tmpdir(), "plinth-prism-start-"));
  const started: Prism[] = [];

  beforeAll(async () => {
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    const doc = {
      openapi: "3.0.3",
      info: { title: "prism-start", version: "1" },
      paths: {
        "/x": {
          get: {
            responses: {
              200: {
                description: "ok",
                content: {
                  "application/json": {
                    schema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
                  },
                },
              },
            },
          },
        },
      },
    };
    writeFileSync(path.join(docDir, "openapi.json"), JSON.stringify(doc));
  });

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    upstream.close();
    rmSync(docDir, { recursive: true, force: true });
  });

  it("serves on the port it bound itself, two at once on two ports, each forwarding to the upstream", async () => {
    const { port } = upstream.address() as AddressInfo;
    const docPath = path.join(docDir, "openapi.json");
    const start = () => startPrism(ROOT, docPath, `http://127.0.0.1:${port}`);
    const pair = await Promise.all([start(), start()]);
    started.push(...pair);
    const [first, second] = [new URL(pair[0].origin), new URL(pair[1].origin)];
    expect([first.hostname, second.hostname]).toEqual(["127.0.0.1", "127.0.0.1"]);
    expect(Number(first.port)).toBeGreaterThan(0);
    expect(first.port).not.toBe(second.port);
    for (const p of pair) {
      const res = await fetch(new URL("/x", p.origin));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
      expect(res.headers.get("sl-violations")).toBeNull();
    }
  }, 120_000);
});
