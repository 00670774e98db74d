// Mail end to end: plinth served by Miniflare sends its mail through the MAIL
// queue to a real HTTP receiver on 127.0.0.1 standing in for an email API
// provider. The provider is down (500) at first, then recovers: every mail
// must arrive, once, exactly as rendered, with the bearer key, and its token
// must still work. MAIL_RETRY_* shrinks the retry schedule to seconds.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passwordResetMail, verificationMail } from "../../src/modules/identity/mail-templates";
import { type Json, servedApi, until } from "./proxy/served-api";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");
const KEY = `re_${randomBytes(24).toString("base64url")}`;
const FROM = "Plinth Test <noreply@plinth.test>";
const TENANT_NAME = `Acme & <Sons> "Mail"`;

/** One request as the provider got it, and what it answered. */
interface Hit {
  authorization: string | undefined;
  contentType: string | undefined;
  idempotencyKey: string | undefined;
  raw: string;
  body: Json;
  status: number;
}

/** A provider's send endpoint: checks the bearer key (401 otherwise), then answers 500 while down, 200 when up. */
interface Provider {
  url: string;
  hits: Hit[];
  down: boolean;
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function startProvider(): Promise<Provider> {
  const provider = { hits: [] as Hit[], down: true } as Provider;
  const server: Server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const authorization = req.headers.authorization;
      let status = 200;
      if (req.method !== "POST" || req.url !== "/v1/send") status = 404;
      else if (authorization !== `Bearer ${KEY}`) status = 401;
      else if (provider.down) status = 500;
      let body: Json = {};
      try {
        body = JSON.parse(raw) as Json;
      } catch {
        status = 400;
      }
      provider.hits.push({
        authorization,
        contentType: req.headers["content-type"],
        idempotencyKey: req.headers["idempotency-key"] as string | undefined,
        raw,
        body,
        status,
      });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(status === 200 ? '{"id":"accepted"}' : '{"error":"unavailable"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  provider.url = `http://127.0.0.1:${port}/v1/send`;
  provider.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return provider;
}

let provider: Provider;
let worker: ServedWorker | undefined;

beforeAll(async () => {
  provider = await startProvider();
  worker = await serveWorker(ROOT, {
    vars: {
      MAIL_API_URL: provider.url,
      MAIL_API_KEY: KEY,
      MAIL_FROM: FROM,
      MAIL_RETRY_BASE_S: "1",
      MAIL_RETRY_MAX_S: "2",
      ENCRYPTION_KEYS: JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]),
    },
  });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await provider?.stop();
});

const served = () => {
  if (!worker) throw new Error("no worker");
  return worker;
};
const api = servedApi(() => worker);

describe("mail through an HTTP email API that fails for a while", () => {
  it("loses nothing: every mail arrives once, exactly as rendered, with the bearer key, and its token works", async () => {
    const slug = `mail-${Date.now().toString(36)}`;
    const tenant = await api("POST", "/api/v1/platform/tenants", {
      key: served().rootKey,
      body: { slug, name: TENANT_NAME },
    });
    expect(tenant.status, JSON.stringify(tenant.body)).toBe(201);
    const anon = { headers: { "x-tenant": slug } };

    // While the provider is down: six registrations, and two password resets.
    const users = Array.from({ length: 6 }, (_, i) => `user${i}-${slug}@example.com`);
    for (const email of users) {
      const res = await api("POST", "/api/v1/auth/register", {
        ...anon,
        body: { email, password: "correct horse battery staple", name: "U" },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const resets = users.slice(0, 2);
    for (const email of resets) {
      expect((await api("POST", "/api/v1/auth/password-reset", { ...anon, body: { email } })).status).toBe(202);
    }
    const expected = users.length + resets.length;

    // The outage lasts until every mail has been refused at least once, and some more than once.
    const refused = () => new Set(provider.hits.filter((h) => h.status === 500).map((h) => h.idempotencyKey));
    await until(
      "every mail to be refused at least once",
      () => (refused().size === expected && provider.hits.length >= expected + 4 ? true : undefined),
      60_000,
    );
    expect(provider.hits.filter((h) => h.status === 200)).toEqual([]);
    provider.down = false;

    const accepted = await until(
      "every mail to be accepted",
      () => {
        const ok = provider.hits.filter((h) => h.status === 200);
        return new Set(ok.map((h) => h.idempotencyKey)).size >= expected ? ok : undefined;
      },
      60_000,
    );
    // Any straggler retry already scheduled lands within the schedule's ceiling (2 s) plus a batch.
    await new Promise((r) => setTimeout(r, 3_500));
    const final = provider.hits.filter((h) => h.status === 200);

    // Every request carried the key, JSON, and an idempotency key; each mail was accepted exactly once.
    for (const hit of provider.hits) {
      expect(hit.authorization).toBe(`Bearer ${KEY}`);
      expect(hit.contentType).toBe("application/json");
      expect(hit.idempotencyKey).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    }
    expect(final).toHaveLength(expected);
    expect(new Set(final.map((h) => h.idempotencyKey)).size).toBe(expected);
    expect(accepted).toHaveLength(expected);
    // A retried mail is byte for byte the one that failed.
    for (const hit of provider.hits) {
      const sent = final.find((h) => h.idempotencyKey === hit.idempotencyKey);
      expect(hit.raw).toBe(sent?.raw);
    }

    // Exactly what the templates render for this tenant, with the token the mail carries.
    const byTo = (to: string, subject: string) =>
      final.filter((h) => h.body.to === to && String(h.body.subject).startsWith(subject));
    const tokenOf = (hit: Hit | undefined) => /token: (pl[vp]_[A-Za-z0-9_-]+)/.exec(String(hit?.body.text))?.[1] ?? "";
    for (const email of users) {
      const [hit, ...more] = byTo(email, "Verify");
      expect(more).toEqual([]);
      const token = tokenOf(hit);
      expect(hit?.body).toEqual({ from: FROM, to: email, ...verificationMail({ tenantName: TENANT_NAME, token }) });
      expect(String(hit?.body.html)).toContain("Acme &amp; &lt;Sons&gt; &quot;Mail&quot;");
      expect((await api("POST", "/api/v1/auth/verify-email", { ...anon, body: { token } })).status).toBe(204);
    }
    for (const email of resets) {
      const [hit, ...more] = byTo(email, "Reset");
      expect(more).toEqual([]);
      const token = tokenOf(hit);
      expect(hit?.body).toEqual({ from: FROM, to: email, ...passwordResetMail({ tenantName: TENANT_NAME, token }) });
      const confirm = await api("POST", "/api/v1/auth/password-reset/confirm", {
        ...anon,
        body: { token, password: "a brand new passphrase" },
      });
      expect(confirm.status).toBe(204);
    }

    // The provider took the mail: no dead letter, nothing in the dev mailbox.
    const dead = await api("GET", `/api/v1/platform/mail/dead-letters?tenant_id=${tenant.body.id}`, {
      key: served().rootKey,
    });
    expect(dead.body.items).toEqual([]);
    const box = await api("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(users[0] ?? "")}`, anon);
    expect(box.body.items).toEqual([]);

    // The Worker said that sends failed, without saying to whom or what.
    const lines = [...served().logs.kinds.values()].map((k) => k.first).join("\n");
    expect(lines).toContain("mail not sent; will retry");
    for (const secret of [...users, "plv_", "plp_", KEY, "Verify your email"]) expect(lines).not.toContain(secret);
  }, 180_000);
});
