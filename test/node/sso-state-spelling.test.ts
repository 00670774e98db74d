// A spent sign-in state stays spent in every spelling. The sealed `state` is `v<version>.<nonce>.<ct>`
// and the envelope opens `v01.` as `v1.` (the version is read as a number): spent states keyed by
// the hash of the string let a respelt copy of a spent state open again and sign in a second time.
// A provider that answers any code it issued (the fake one here, or a fresh code asked with the
// same authorization URL) is what makes such a replay reach the directory.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Json, servedApi } from "./proxy/served-api";
import { type ServedWorker, serveWorker } from "./proxy/worker";
import { type FakeProvider, startFakeProvider } from "./support/fake-oidc";
import { browser } from "./support/oidc";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLIENT_ID = "plinth-e2e";

let worker: ServedWorker | undefined;
let fake: FakeProvider | undefined;
const api = servedApi(() => worker);
const served = () => {
  if (!worker) throw new Error("no worker");
  return worker;
};
const originOf = (slug: string) => served().origin.replace("127.0.0.1", `${slug}.localhost`);
const json = (body: string): Json => JSON.parse(body) as Json;

beforeAll(async () => {
  worker = await serveWorker(ROOT, {
    vars: { ENCRYPTION_KEYS: JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]) },
  });
  fake = await startFakeProvider({ client_id: CLIENT_ID });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await fake?.stop();
});

/** The same sealed state, spelt otherwise: the version with a leading zero. */
const respelt = (state: string) => state.replace(/^v(\d)/, "v0$1");

describe("a spent state, respelt", () => {
  it("is still spent: the callback refuses it (400 sso_state_invalid) after the first sign-in", async () => {
    if (!fake) throw new Error("no fake provider");
    const slug = `sso-spell-${randomBytes(3).toString("hex")}`;
    const created = await api("POST", "/api/v1/platform/tenants", {
      key: served().rootKey,
      body: { slug, name: slug },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const put = await api("PUT", "/api/v1/admin/sso", {
      key: String(created.body.admin_key),
      body: { issuer: fake.issuer, client_id: CLIENT_ID, client_secret: "s3cret", allowed_domains: ["example.com"] },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    fake.tamper("none");

    const b = browser();
    const started = await b.get(`${originOf(slug)}/api/v1/auth/sso/start`);
    expect(started.status, started.body).toBe(302);
    const back = await b.get(started.location ?? "");
    const callback = new URL(back.location ?? "");
    const first = await b.get(callback.href);
    expect(first.status, first.body).toBe(200);

    const state = callback.searchParams.get("state") ?? "";
    expect(respelt(state)).not.toBe(state);
    const replay = new URL(callback.href);
    replay.searchParams.set("state", respelt(state));
    const again = await b.get(replay.href);
    expect(again.status, again.body).toBe(400);
    expect(json(again.body).code).toBe("sso_state_invalid");
  });
});
