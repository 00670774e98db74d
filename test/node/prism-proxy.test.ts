import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCalls, missingSamples } from "./proxy/errors";
import { send } from "./proxy/http";
import { moduleSweeps } from "./proxy/modules";
import { type Prism, startPrism } from "./proxy/prism";
import { refusals } from "./proxy/refusals";
import { type Exchange, type ServedDocument, Sweep } from "./proxy/sweep";
import { type PlantDeadLetter, setUp, tearDown } from "./proxy/valid";
import { type ServedWorker, serveWorker } from "./proxy/worker";
import { plantEventLetter, plantMailLetter } from "./support/dead-letters";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SWEEP_TIMEOUT_MS = 240_000;

/**
 * Writes a dead letter row as a queue consumer would after the last retry. An
 * event's is well formed, so a replay is recorded like any event; a mail's
 * holds a plain-content mail message, which a replay delivers to the dev mailbox.
 */
const planter =
  (sql: ServedWorker["sql"]): PlantDeadLetter =>
  (tenantId, kind = "event") =>
    kind === "mail"
      ? plantMailLetter(sql, tenantId, {
          kind: "sweep.planted",
          to: "dead-letter@example.com",
          reason: "planted by the sweep",
          prefix: "dl",
        })
      : plantEventLetter(sql, tenantId, { type: "sweep.replayed", reason: "planted by the sweep" });

const where = (e: Exchange) => `${e.call.op} [${e.call.label}] → ${e.status}${e.code ? ` ${e.code}` : ""}`;

describe("every operation of /openapi.json, through a validating proxy (Stoplight Prism)", () => {
  let worker: ServedWorker | undefined;
  let prism: Prism | undefined;
  let docDir: string | undefined;
  let doc: ServedDocument = { paths: {} };
  let exchanges: Exchange[] = [];

  const stopAll = async () => {
    await prism?.stop();
    await worker?.stop();
    if (docDir) rmSync(docDir, { recursive: true, force: true });
  };

  beforeAll(async () => {
    try {
      // Webhook secrets are sealed with envelope encryption, which needs master keys (as `npm start` makes).
      const encryptionKeys = JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]);
      // Uploads get their own size limit (FILES_MAX_BYTES): 1 MiB here, so the sweep's 2 MiB bodies exceed it too.
      worker = await serveWorker(ROOT, { vars: { ENCRYPTION_KEYS: encryptionKeys, FILES_MAX_BYTES: "1048576" } });
      const served = await send(worker.origin, { method: "GET", url: "/openapi.json" });
      if (served.status !== 200) throw new Error(`/openapi.json answered ${served.status}`);
      doc = JSON.parse(served.text) as ServedDocument;
      docDir = mkdtempSync(path.join(tmpdir(), "plinth-openapi-"));
      const docPath = path.join(docDir, "openapi.json");
      writeFileSync(docPath, served.text);
      prism = await startPrism(ROOT, docPath, worker.origin);

      const sweep = new Sweep(doc, prism.origin, worker.origin);
      exchanges = sweep.exchanges;
      const fixtures = await setUp(sweep, worker.rootKey, planter(worker.sql));
      // Product modules bring their own valid requests (test/node/proxy/modules/).
      for (const m of moduleSweeps) await m.valid(sweep, fixtures);
      await refusals(sweep, fixtures);
      for (const call of errorCalls(doc, fixtures)) await sweep.call(call);
      await tearDown(sweep, fixtures);
      const around = exchanges.filter((e) => e.call.direct).length;
      console.log(
        `prism sweep: ${exchanges.length} requests (${around} around Prism; ${sweep.retried} re-sent after a forwarding race)`,
      );
    } catch (error) {
      // Whatever started must stop even when the sweep cannot finish.
      const logs = [...(worker?.logs.kinds.values() ?? [])].map((k) => k.first).join("\n");
      await stopAll();
      throw new Error(`${error instanceof Error ? error.message : String(error)}\nWorker log lines:\n${logs}`, {
        cause: error,
      });
    }
  }, SWEEP_TIMEOUT_MS);

  afterAll(stopAll, 30_000);

  it("Prism finds no response the document does not describe (status, media type, body)", () => {
    const found = exchanges.flatMap((e) => e.responseViolations.map((v) => `${where(e)}: ${v}`));
    expect(found).toEqual([]);
    // Its log says the same: no `Violation: response…` line escaped the per-request headers.
    expect(prism?.violations.filter((line) => line.startsWith("Violation: response"))).toEqual([]);
    expect(exchanges.filter((e) => !e.call.direct).length).toBeGreaterThan(100);
  });

  it("no valid request breaks a rule the document sets for requests", () => {
    const found = exchanges
      .filter((e) => e.call.intent === "valid")
      .flatMap((e) => e.requestViolations.map((v) => `${where(e)}: ${v}`));
    expect(found).toEqual([]);
  });

  it("each request gets the status and problem code the contract gives it", () => {
    const wrong = exchanges
      .filter((e) => e.status !== e.call.expect || (e.call.code !== undefined && e.code !== e.call.code))
      .map((e) => `${where(e)}, expected ${e.call.expect}${e.call.code ? ` ${e.call.code}` : ""}: ${e.body}`);
    expect(wrong).toEqual([]);
  });

  it("sweeps every operation: each answers a valid request with 2xx, and each body has a sample for its error requests", () => {
    const operations = Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(operations.length).toBeGreaterThan(30);
    // A redirect counts where it is the operation's documented success (SSO's start, or its callback to an app).
    const answered = new Set(
      exchanges
        .filter((e) => e.call.intent === "valid" && (e.status < 300 || (e.status < 400 && e.status === e.call.expect)))
        .map((e) => e.call.op),
    );
    expect(operations.filter((op) => !answered.has(op))).toEqual([]);
    expect(missingSamples(doc)).toEqual([]);
  });
});
