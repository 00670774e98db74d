// What the isolation walks (tenant-isolation.test.ts, member-privilege.test.ts) share: the served
// document's tenant operations, the permission each declares, sending a walk request, and reading
// a tenant as its administrators see it, to compare before and after a walk.
import { SELF } from "cloudflare:test";
import { type Operation, operationsOf } from "./fuzz-operations";
import { pathOf, requestOf, type WalkRequest } from "./isolation-requests";
import type { Twin } from "./isolation-seed";

// Body fields the smallest schema value gets wrong for the route's own rules, by operation.
export const BODIES: Record<string, unknown> = {
  // Every field is optional, but a change must name one.
  updateWebhookEndpoint: { description: "iso" },
  updatePost: { title: "iso" },
  // A role name is a lower-case slug; an allowed domain a DNS name.
  createRole: { name: "iso-role" },
  putSsoProvider: { issuer: "https://login.example.com", allowed_domains: ["example.com"] },
  // The smallest quota, 0, would refuse every upload after it.
  setFileQuota: { quota_bytes: 100_000_000 },
};

type RawOperation = { parameters?: { name: string; in: string }[]; security?: Record<string, string[]>[] };
type RawDocument = { paths: Record<string, Record<string, RawOperation>> };

/** The served document: its operations, and the raw declaration of each (parameters, security). */
export async function servedDocument(): Promise<{ operations: Operation[]; raw: (op: Operation) => RawOperation }> {
  const doc = (await (await SELF.fetch("http://plinth.test/openapi.json")).json()) as Parameters<
    typeof operationsOf
  >[0];
  const rawDoc = doc as RawDocument;
  return { operations: operationsOf(doc), raw: (op) => rawDoc.paths[op.path]?.[op.method.toLowerCase()] ?? {} };
}

/** Under /api/v1/platform: the root key's, no tenant's. */
export const isPlatform = (op: Operation) => op.path.startsWith("/api/v1/platform/");

/**
 * The permission `op` asks of its caller, as its bearer requirement names it (the kernel's
 * `securityOf`), or undefined where it asks none and its handler decides (`principal`).
 */
export const permissionOf = (raw: RawOperation): string | undefined => raw.security?.[0]?.bearer?.[0];

/** Sends a walk request to the Worker; the answer and its text. */
export async function send(req: WalkRequest): Promise<{ res: Response; text: string }> {
  const res = await SELF.fetch(`http://plinth.test${req.url}`, {
    method: req.method,
    headers: req.headers,
    body: req.body,
  });
  return { res, text: await res.text() };
}

/**
 * `req` with its body's SHA-256 in `Content-Digest` where `op` declares that header: a streamed
 * upload takes an `Idempotency-Key` only with it (docs/files.md), so without it the walk's keyed
 * requests would stop at a 400 before the idempotency store is ever asked.
 */
export async function digested(op: Operation, req: WalkRequest): Promise<WalkRequest> {
  if (!op.headerParams.includes("content-digest") || req.body === undefined) return req;
  const bytes = typeof req.body === "string" ? new TextEncoder().encode(req.body) : req.body;
  const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const digest = `sha-256=:${btoa(String.fromCharCode(...sum))}:`;
  return { ...req, headers: { ...req.headers, "content-digest": digest } };
}

/**
 * GETs whose every call the audit log records (an export, a person's own or an administrator's: docs/identity.md):
 * a snapshot reading them would move the audit list, its export and its verification between any two
 * reads, so snapshots leave them out. The walks still send them with every other credential (a
 * refusal, a 404), and what they show is what the member's other reads show, which snapshots compare.
 */
export const AUDITED_READS: ReadonlySet<string> = new Set(["exportMyData", "exportUserData"]);

/**
 * Each of `ops` (GETs) as `twin`'s administrators read it (but AUDITED_READS), its path naming `twin`'s resources:
 * the status and raw text by operation. The admin key first, an owner's token where a key is
 * refused (the routes of a signed-in user).
 */
export async function readsOf(twin: Twin, ops: Operation[]): Promise<Record<string, { status: number; text: string }>> {
  const seen: Record<string, { status: number; text: string }> = {};
  for (const op of ops.filter((o) => !AUDITED_READS.has(o.operationId))) {
    const url = pathOf(op, () => twin);
    let got = await send(requestOf(op, url, twin.adminKey, BODIES));
    if (got.res.status === 403) got = await send(requestOf(op, url, twin.ownerToken, BODIES));
    seen[op.operationId] = { status: got.res.status, text: got.text };
  }
  return seen;
}
