// A typed error thrown inside a Durable Object reaches the Worker over RPC as a plain `Error`
// (workerd keeps the message, prefixed with the class's name, and drops the class and its own
// properties). The contract client revives the kinds the edge and the callers tell apart, so a
// client is told what an error thrown in the Worker would have told it, and the log says it once.
import { createExecutionContext, createMessageBatch, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AuditLog } from "../../durable-objects/audit-log";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import { generateSigningJwk } from "../../src/kernel/auth/jwt";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { base64UrlEncode } from "../../src/kernel/crypto";
import { wasmAead } from "../../src/kernel/crypto/aead";
import { Envelope, MissingKeyVersion, parseMasterKeys } from "../../src/kernel/crypto/envelope";
import { rpcClient } from "../../src/kernel/durable/rpc";
import { normaliseError } from "../../src/kernel/errors";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { createRouter } from "../../src/kernel/openapi/router";
import { modules } from "../../src/modules";
import { endpointActor } from "../../src/modules/webhooks/contract";
import { PROBE_KINDS, PROBE_SEALED, PROBE_SEEDS, ProbeRpc } from "../actors/probe-actor";
import { rejection } from "../actors/rejection";
import { expectProblem, testApp } from "../helpers";
import { call, newTenant } from "../identity/helpers";
import { auditInputs } from "../modules/audit-inputs";
import { keyedPlatform, tenantOn } from "./keyed-platform";

/** The JSON lines logged at error while `run` ran, besides the access line every 5xx gets. */
async function errorLines(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  vi.spyOn(console, "error").mockImplementation((line: unknown) => {
    lines.push(JSON.parse(String(line)) as Record<string, unknown>);
  });
  await run();
  vi.restoreAllMocks();
  return lines.filter((l) => l.msg !== "request");
}

afterEach(() => vi.restoreAllMocks());

describe("JWT_SIGNING_KEYS whose x is not d's, met inside the tenant's AuditLog", () => {
  // The shape is right, so the config check passes it; the AuditLog loads the pair when it signs
  // a checkpoint or verifies one, and throws SigningKeysError there, in the object.
  async function brokenLog() {
    const a = await generateSigningJwk("k-a");
    const b = await generateSigningJwk("k-b");
    const broken = JSON.stringify([{ ...a, x: b.x }]);
    const t = await newTenant("obj-err");
    const stub = env.AUDIT_LOG.getByName(t.id) as unknown as DurableObjectStub<AuditLog>;
    // The object's env, as a deployment with that secret gives it (the Worker's own keys stay good:
    // an admin key needs none, so nothing but the object meets the bad pair).
    const swap = (keys: unknown) =>
      runInDurableObject(stub, (instance: AuditLog) => {
        Object.assign(instance, { env: { ...env, JWT_SIGNING_KEYS: keys } });
      });
    await swap(broken);
    return { t, d: a.d, restore: () => swap(env.JWT_SIGNING_KEYS) };
  }

  it("the events consumer appending the entry a checkpoint is due at: its retry line names the variable, no stack", async () => {
    const { t, restore } = await brokenLog();
    try {
      // 120 entries and no checkpoint yet: the consumer's next append (every 100) signs one.
      const input = auditInputs(`obj-err-${t.id}`);
      await env.AUDIT_LOG.getByName(t.id).append({
        events: Array.from({ length: 120 }, () => input(t.id)),
        checkpointEvery: 100_000,
      });
      const event = {
        id: `obj-err-ev-${crypto.randomUUID()}`,
        type: "identity.user.logged_in",
        tenant_id: t.id,
        stream: `${t.id}/user/u1`,
        version: 1,
        occurred_at: "2026-06-01T00:00:00.000Z",
        actor: { kind: "user", id: "u1" },
        request_id: null,
        data: { user_id: "u1" },
      };
      const batch = createMessageBatch("plinth-events", [
        { id: "m-1", timestamp: new Date(), attempts: 1, body: event },
      ]);
      const handler = createQueueHandler(createPlatform({ modules, migrations: MIGRATIONS }));
      const lines = await errorLines(async () => {
        await handler(batch, env, createExecutionContext());
      });
      const retry = lines.filter((l) => l.msg === "message failed; will retry");
      expect(retry).toHaveLength(1);
      expect(retry[0]).toMatchObject({ variable: "JWT_SIGNING_KEYS", error_name: "SigningKeysError" });
      // A stack points at the code that met it, as for a bug; the fix is the variable's value.
      expect(retry[0]).not.toHaveProperty("stack");
    } finally {
      await restore();
    }
  });

  for (const path of ["/api/v1/admin/audit/verify", "/api/v1/admin/audit/export"]) {
    it(`GET ${path}: 500 config_invalid naming the variable, logged once without a stack`, async () => {
      const { t, d, restore } = await brokenLog();
      try {
        let res = { status: 0, body: {} as Record<string, unknown> };
        const lines = await errorLines(async () => {
          res = await call(path, { token: t.adminKey });
        });
        expect(res.status, JSON.stringify(res.body)).toBe(500);
        expect(res.body.code).toBe("config_invalid");
        expect(String(res.body.detail)).toContain("JWT_SIGNING_KEYS");
        expect(JSON.stringify(res.body)).not.toContain(d);
        // It was "unhandled error" with a stack, as for a bug, and the client was told `internal`.
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({ level: "error", code: "config_invalid", variable: "JWT_SIGNING_KEYS" });
        expect(String(lines[0]?.error_message)).toContain('key "k-a": x is not the public key of d');
        expect(lines[0]).not.toHaveProperty("stack");
        expect(JSON.stringify(lines)).not.toContain(d);
      } finally {
        await restore();
      }
    });
  }
});

describe("a value sealed under a key version the object's ENCRYPTION_KEYS lacks, opened in an RPC method", () => {
  it("reaches the contract client as MissingKeyVersion with its version: config_invalid, logged once, in the object", async () => {
    // Sealed under version 41, which the objects' env (the pool's version 1 only) does not list.
    const key = { version: 41, key: base64UrlEncode(crypto.getRandomValues(new Uint8Array(32))) };
    const sealing = new Envelope(wasmAead, parseMasterKeys(JSON.stringify([key])), PROBE_SEEDS, PROBE_KINDS);
    const sealed = await sealing.encrypt(PROBE_SEALED.tenantId, PROBE_SEALED.field, "a secret");
    const probe = rpcClient(ProbeRpc, env.PROBE_ACTOR.getByName(`unseal-${crypto.randomUUID()}`), "ProbeActor");
    let caught: unknown;
    const lines = await errorLines(async () => {
      caught = await probe.unseal({ sealed }).catch((error: unknown) => error);
    });
    // A plain Error named "Error" before: the edge could not tell it from a bug.
    expect(caught).toBeInstanceOf(MissingKeyVersion);
    expect((caught as MissingKeyVersion).version).toBe(41);
    const { error, expected } = normaliseError(caught);
    expect({ code: error.code, status: error.status, expected }).toEqual({
      code: "config_invalid",
      status: 500,
      expected: false,
    });
    expect(error.detail).toContain("ENCRYPTION_KEYS lacks key version 41");
    // The object logged it where it met it, with what holds the value.
    expect(lines.filter((l) => l.key_version === 41 && l.field === PROBE_SEALED.field)).toHaveLength(1);
  });
});

describe("an actor meeting MissingKeyVersion in its timer (a webhook endpoint signing a delivery)", () => {
  it("logs the key version line at each attempt, and no 'actor handler failed' with a stack beside it", async () => {
    const clock = manualClock("2046-04-01T00:00:00.000Z");
    const key = { version: 43, key: base64UrlEncode(crypto.getRandomValues(new Uint8Array(32))) };
    const sealing = keyedPlatform(JSON.stringify([key]), clock);
    const t = await tenantOn(sealing, clock, "obj-err-hook");
    const hook = await sealing("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "http://127.0.0.1:9/hook", events: ["blog.post.*"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const id = String(hook.body.id);
    // The actor's env holds the pool's keys only (version 1): it cannot open the secret sealed under 43.
    const sent = await call(`/api/v1/admin/webhooks/${id}/test`, { method: "POST", token: t.adminKey });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    const stub = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`);
    const lines: Record<string, unknown>[] = [];
    const keep = (line: unknown) => void lines.push(JSON.parse(String(line)) as Record<string, unknown>);
    vi.spyOn(console, "warn").mockImplementation(keep);
    vi.spyOn(console, "error").mockImplementation(keep);
    const keyLines = () => lines.filter((l) => l.key_version === 43 && l.kind === "webhooks.secret");
    try {
      // Two attempts: the first, and its retry a second later (the actor's timer retry).
      for (let i = 0; keyLines().length < 2; i++) {
        if (i > 200) throw new Error(`the actor tried ${keyLines().length} times`);
        await runDurableObjectAlarm(stub);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      vi.restoreAllMocks();
      await endpointActor(env, t.id, id).purge({});
    }
    // Each attempt said it twice before: the clear line, then the handler's failure with the stack of
    // the code that met it, as for a bug.
    expect(lines.filter((l) => l.msg === "actor handler failed")).toEqual([]);
    expect(lines.filter((l) => "stack" in l)).toEqual([]);
  });
});

describe("an actor paused by its supervision, called in a request", () => {
  it("answers 503 unavailable with Retry-After until the pause ends, not 500 internal with a stack", async () => {
    const name = `paused-${crypto.randomUUID()}`;
    const stub = env.PROBE_ACTOR.getByName(name);
    await stub.setTime({ at: systemClock.now().getTime() });
    // Three failures in its window pause the probe for 1 s (its supervision policy); it logs that itself.
    vi.spyOn(console, "warn").mockImplementation(() => {});
    await errorLines(async () => {
      for (let i = 0; i < 3; i++) await rejection(stub.note({ value: `bad${i}`, fail: true }));
    });
    // A module's route that reads the actor through its contract client, as the webhook routes read an endpoint's.
    const routes = createRouter().get("/notes/:name", async (c) => {
      const probe = rpcClient(ProbeRpc, c.env.PROBE_ACTOR.getByName(c.req.param("name")), "ProbeActor");
      return c.json(await probe.notes({}));
    });
    const { fetch } = testApp([{ name: "paused", version: "1.0.0", routes }]);
    let res = new Response();
    const lines = await errorLines(async () => {
      res = await fetch(`/api/v1/paused/notes/${name}`);
    });
    // ActorBackingOff crossed as a plain Error: 500 internal, and "unhandled error" with a stack.
    await expectProblem(res, 503, "unavailable");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(2);
    expect(lines).toEqual([]);
  });
});
