import { runInDurableObject, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";

export const ORIGIN = "http://plinth.test";
export const PASSWORD = "correct horse battery staple";

type Json = Record<string, unknown>;

/** A request as the tests make it: `token` becomes a bearer credential, `tenant` the X-Tenant header. */
export type CallOptions = {
  method?: string;
  token?: string;
  tenant?: string;
  body?: unknown;
  headers?: Record<string, string>;
};

/** A JSON caller over `fetcher` (the Worker, or a `testApp`'s own platform): status, parsed body, headers. */
export function callerOf(fetcher: (path: string, init: RequestInit) => Response | Promise<Response>) {
  return async (path: string, options: CallOptions = {}): Promise<{ status: number; body: Json; headers: Headers }> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.tenant) headers["x-tenant"] = options.tenant;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetcher(path, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
  };
}

/** A request to the Worker. */
export const call = callerOf((path, init) => SELF.fetch(`${ORIGIN}${path}`, init));

/**
 * A rebuild of `consumer` from its objects' state through the platform's replay, followed
 * through every `next` to the end: each call's answer.
 */
export async function rebuildToEnd(consumer: string, body: Json): Promise<Json[]> {
  const answers: Json[] = [];
  let after: string | undefined;
  do {
    const res = await call("/api/v1/platform/events/replay", {
      token: rootKey(),
      body: { consumer, rebuild: true, ...body, after },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    answers.push(res.body);
    after = (res.body.next as string | null) ?? undefined;
  } while (after);
  return answers;
}

/** The platform root key the test pool runs with (vitest.config.ts). */
export const rootKey = () => env.PLATFORM_ROOT_KEY as string;

let counter = 0;
/** A fresh tenant with a unique slug; returns its id, slug and admin key. */
export async function newTenant(prefix = "t"): Promise<{ id: string; slug: string; adminKey: string }> {
  counter++;
  const slug = `${prefix}-${Date.now().toString(36)}-${counter}`;
  const res = await call("/api/v1/platform/tenants", { token: rootKey(), body: { slug, name: `Tenant ${slug}` } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, slug, adminKey: res.body.admin_key as string };
}

/** Registers a user and returns it. */
export async function register(slug: string, email: string, name = "Ada"): Promise<Json> {
  const res = await call("/api/v1/auth/register", { tenant: slug, body: { email, password: PASSWORD, name } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Logs in and returns the token pair. */
export async function login(slug: string, email: string, password = PASSWORD) {
  const res = await call("/api/v1/auth/login", { tenant: slug, body: { email, password } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { access_token: string; refresh_token: string; token_type: string; expires_in: number };
}

/** A registered, logged-in user. */
export async function newUser(slug: string, email = `u${++counter}@example.com`) {
  const user = await register(slug, email);
  const tokens = await login(slug, email);
  return { id: user.id as string, email, ...tokens };
}

/**
 * The mails to `to` whose subject starts with `subject`, newest first,
 * polling until there are `count`: mail is queued by the request and
 * delivered to the dev mailbox by the mail queue's consumer a moment later
 * (its batches wait up to a second), in no particular order.
 */
export async function mailsTo(
  slug: string,
  to: string,
  count = 1,
  subject = "",
): Promise<{ subject: string; body: string; html: string | null }[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await call(`/api/v1/dev/mailbox?to=${encodeURIComponent(to)}`, { tenant: slug });
    const items = (res.body.items as { subject: string; body: string; html: string | null }[]).filter((m) =>
      m.subject.startsWith(subject),
    );
    if (items.length >= count) return items;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} "${subject}" mails to ${to}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let markers = 0;
/**
 * Waits until mail queued before this call has had its chance to arrive: a
 * marker mail (a registration's) queued after it is delivered. Before
 * asserting that something was not mailed.
 */
export async function mailSettled(slug: string): Promise<void> {
  const marker = `marker-${++markers}-${Date.now().toString(36)}@example.com`;
  await register(slug, marker);
  await mailsTo(slug, marker);
}

/** The newest mail to `to` whose subject starts with `subject`, once there are `count` of them. */
export async function mailTo(
  slug: string,
  to: string,
  subject = "",
  count = 1,
): Promise<{ subject: string; body: string; html: string | null }> {
  const [newest] = await mailsTo(slug, to, count, subject);
  if (!newest) throw new Error(`no mail to ${to}`);
  return newest;
}

/** An API key created with `token`; returns its id and secret. */
export async function newKey(token: string, scopes: string[], name = "scoped"): Promise<{ id: string; key: string }> {
  const res = await call("/api/v1/admin/api-keys", { token, body: { name, scopes } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, key: res.body.key as string };
}

/** An audit entry as the list and the export show it. */
export interface Entry {
  seq: number;
  actor: { kind: string; id: string | null };
  action: string;
  target: string | null;
  request_id: string | null;
  detail?: Record<string, unknown>;
}

/**
 * The tenant's audit entries with `action`, newest first, once there are at
 * least `count` (the queue delivers asynchronously; gives up after 10 s).
 */
export async function auditOf(token: string, action: string, count = 1): Promise<Entry[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await call(`/api/v1/admin/audit?action=${action}&limit=100`, { token });
    const items = res.body.items as Entry[];
    if (items.length >= count || Date.now() > deadline) return items;
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Caller = ReturnType<typeof callerOf>;

/**
 * Waits until the audit entries of what the tenant's directory wrote before this call have had
 * their chance to arrive: a marker registration, written after them through the same outbox
 * (which sends in order), is in the log. Before asserting that something was not recorded, or
 * recorded only once: a count read as soon as the first entry shows passes whatever comes later.
 * `caller` is the app the test drives (a `platformAt`'s own, or the Worker). Returns the marker
 * user's id, for a test that counts registrations.
 */
export async function auditSettled(slug: string, token: string, caller: Caller = call): Promise<string> {
  const email = `audit-marker-${++markers}-${Date.now().toString(36)}@example.com`;
  const reg = await caller("/api/v1/auth/register", { tenant: slug, body: { email, password: PASSWORD, name: "M" } });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const target = `/user/${reg.body.id}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await caller("/api/v1/admin/audit?action=identity.user.registered&limit=100", { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if ((res.body.items as Entry[]).some((e) => e.target?.endsWith(target))) return String(reg.body.id);
    if (Date.now() > deadline) throw new Error(`the audit marker ${email} did not arrive in 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The secret token (`plv_…`, `plp_…`) in a mail's text part. */
export const tokenIn = (mail: { body: string }) => /\bpl[a-z]_[A-Za-z0-9_-]+/.exec(mail.body)?.[0] ?? "";

/**
 * Dates every spent refresh token of the tenant long ago, past the refresh grace: a replay
 * after this is a reuse (revoking the family), not a second tab asking again.
 */
export async function spentLongAgo(tenantId: string): Promise<void> {
  await runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) => {
    state.storage.sql.exec(
      "update refresh_tokens set spent_at = '2000-01-01T00:00:00.000Z' where spent_at is not null",
    );
  });
}
