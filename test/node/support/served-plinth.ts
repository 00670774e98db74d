// One plinth served by Miniflare for a whole Node test file (the CLI and end-to-end tests),
// with fresh ENCRYPTION_KEYS, and the two things most of those files do with it: run the CLI
// as the platform operator, and make a tenant through the typed SDK.
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import createClient from "openapi-fetch";
import { afterAll, beforeAll } from "vitest";
import type { paths } from "../../../src/generated/api";
import { plinth } from "../plinth-cli";
import { type ServedWorker, serveWorker } from "../proxy/worker";

export const ROOT = path.resolve(import.meta.dirname, "../../..");

/**
 * Serves plinth before the file's tests and stops it after them; returns the served Worker's getter.
 * `vars` are set over the defaults (e.g. a `PLATFORM_ROOT_KEY_PREVIOUS` during a rotation).
 */
export function servePlinthForFile(vars: Record<string, string> = {}): () => ServedWorker {
  let worker: ServedWorker | undefined;
  beforeAll(async () => {
    const encryptionKeys = JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]);
    worker = await serveWorker(ROOT, { vars: { ENCRYPTION_KEYS: encryptionKeys, ...vars } });
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
  });
  return () => {
    if (!worker) throw new Error("no worker");
    return worker;
  };
}

/** Runs `plinth <args>` as the platform operator against the served plinth. */
export const asPlatform = (served: ServedWorker, args: string[]) =>
  plinth([...args, "--url", served.origin], { PLATFORM_ROOT_KEY: served.rootKey });

/** A fresh tenant of the served plinth (made through the typed SDK) and its admin key. */
export async function newTenantOf(served: ServedWorker): Promise<{ id: string; key: string }> {
  const sdk = createClient<paths>({
    baseUrl: served.origin,
    headers: { authorization: `Bearer ${served.rootKey}` },
  });
  const { data, error } = await sdk.POST("/api/v1/platform/tenants", {
    body: { slug: `cli-${randomUUID().slice(0, 8)}`, name: "CLI", plan: "free" },
  });
  if (!data) throw new Error(`createTenant: ${JSON.stringify(error)}`);
  return { id: data.id, key: data.admin_key };
}
