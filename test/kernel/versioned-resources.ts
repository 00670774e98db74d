// Versioned resources of every kind a conditional write meets, each at version 1: the aggregate
// (blog posts, through the command bus), the tenant directory (settings, a role, the tenant
// record) and the webhook registry. Shared by the If-Match and If-None-Match tests.
import { expect } from "vitest";
import { call, newTenant, rootKey } from "../identity/helpers";

export type Answer = Awaited<ReturnType<typeof call>>;

/** A versioned resource at version 1, and a write to it that changes something each time. */
export interface Resource {
  name: string;
  write: (headers: Record<string, string>, n: number) => Promise<Answer>;
  version: () => Promise<number>;
  /** A GET of the resource, with these headers, as the writes' caller. */
  read: (headers: Record<string, string>, method?: string) => Promise<Answer>;
}

/** One of each, in a new tenant. */
export async function versionedResources(): Promise<Resource[]> {
  const t = await newTenant();
  const token = t.adminKey;
  const post = await call("/api/v1/blog/posts", { token, body: { title: "v1", content: "x" } });
  expect(post.status).toBe(201);
  const hook = await call("/api/v1/admin/webhooks", {
    token,
    body: { url: "https://hooks.example.com/if-match", events: ["blog.post.*"] },
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  const role = await call("/api/v1/admin/roles", { token, body: { name: "editor", permissions: ["blog.post.read"] } });
  expect(role.status, JSON.stringify(role.body)).toBe(201);
  const read = (path: string, headers: Record<string, string> = {}, auth = token, method = "GET") =>
    call(`${path}${path.includes("/blog/") ? "?consistency=strong" : ""}`, { token: auth, headers, method });
  const etag = async (path: string, auth = token) => {
    const res = await read(path, {}, auth);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return Number(/^"(\d+)"$/.exec(res.headers.get("etag") ?? "")?.[1]);
  };
  const write = (method: string, path: string, body: unknown, headers: Record<string, string>, auth = token) =>
    call(path, { method, token: auth, headers, body });
  return [
    {
      name: "blog post",
      write: (h, n) => write("PATCH", `/api/v1/blog/posts/${post.body.id}`, { title: `v${n}` }, h),
      version: () => etag(`/api/v1/blog/posts/${post.body.id}`),
      read: (h, method) => read(`/api/v1/blog/posts/${post.body.id}`, h, token, method),
    },
    {
      name: "settings",
      write: (h, n) => write("PATCH", "/api/v1/admin/settings", { cors_origins: [`https://a${n}.example.com`] }, h),
      version: () => etag("/api/v1/admin/settings"),
      read: (h, method) => read("/api/v1/admin/settings", h, token, method),
    },
    {
      name: "webhook endpoint",
      write: (h, n) => write("PATCH", `/api/v1/admin/webhooks/${hook.body.id}`, { description: `d${n}` }, h),
      version: () => etag(`/api/v1/admin/webhooks/${hook.body.id}`),
      read: (h, method) => read(`/api/v1/admin/webhooks/${hook.body.id}`, h, token, method),
    },
    {
      name: "role",
      write: (h, n) =>
        write("PUT", "/api/v1/admin/roles/editor", { permissions: ["blog.post.read"], description: `d${n}` }, h),
      version: () => etag("/api/v1/admin/roles/editor"),
      read: (h, method) => read("/api/v1/admin/roles/editor", h, token, method),
    },
    {
      name: "tenant",
      write: (h, n) => write("PATCH", `/api/v1/platform/tenants/${t.id}`, { name: `Tenant ${n}` }, h, rootKey()),
      version: () => etag(`/api/v1/platform/tenants/${t.id}`, rootKey()),
      read: (h, method) => read(`/api/v1/platform/tenants/${t.id}`, h, rootKey(), method),
    },
  ];
}
