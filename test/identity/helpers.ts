import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";

export const ORIGIN = "http://plinth.test";
export const PASSWORD = "correct horse battery staple";

type Json = Record<string, unknown>;

/** A request to the Worker; `token` becomes a bearer credential, `tenant` the X-Tenant header. */
export async function call(
  path: string,
  options: { method?: string; token?: string; tenant?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.tenant) headers["x-tenant"] = options.tenant;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await SELF.fetch(`${ORIGIN}${path}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
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

/** The newest mail to `to`, polling briefly (reset mails are sent after the response). */
export async function mailTo(slug: string, to: string): Promise<{ subject: string; body: string }> {
  for (let i = 0; i < 50; i++) {
    const res = await call(`/api/v1/dev/mailbox?to=${encodeURIComponent(to)}`, { tenant: slug });
    const items = res.body.items as { subject: string; body: string }[];
    if (items.length > 0 && items[0]) return items[0];
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no mail to ${to}`);
}

/** The secret token at the end of a mail body. */
export const tokenIn = (mail: { body: string }) => mail.body.split(" ").at(-1) ?? "";
