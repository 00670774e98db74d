// The requests of the isolation walk (tenant-isolation.test.ts), built from an operation of the
// served OpenAPI document alone: its path parameters filled with one tenant's resources (or a mix
// of two tenants'), and the smallest body its schema takes, so that a route a module adds later is
// walked without anyone listing it.
import { PASSWORD } from "../identity/helpers";
import type { Operation } from "./fuzz-operations";
import type { Schema, Schemas } from "./fuzz-schema";
import type { Twin } from "./isolation-seed";

/** A request as the walk sends it. */
export interface WalkRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/**
 * The keys a path parameter's value is looked up by in a tenant's `ids`, most specific first:
 * the two segments before it (`me/sessions`), then the one (`sessions`).
 */
export function collectionKeys(path: string, param: string): string[] {
  const segments = path.split("/");
  const at = segments.indexOf(`{${param}}`);
  const one = segments[at - 1] ?? "";
  return [`${segments[at - 2] ?? ""}/${one}`, one];
}

/** The value of `param` naming `twin`'s resource, if it holds one of that kind. */
export function idFor(twin: Twin, path: string, param: string): string | undefined {
  for (const key of collectionKeys(path, param)) if (key in twin.ids) return twin.ids[key];
  return undefined;
}

/** The parameters of `op`'s path that no resource of a seeded tenant fills. */
export function unfilled(op: Operation, twin: Twin): string[] {
  return op.pathParams.filter((p) => idFor(twin, op.path, p) === undefined);
}

/** `op`'s path with each parameter taken from the tenant `pick` chooses for it. */
export function pathOf(op: Operation, pick: (param: string) => Twin, fallback = "x"): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
    encodeURIComponent(idFor(pick(name), op.path, name) ?? fallback),
  );
}

/** Every filling of `op`'s path that names at least one of `victim`'s resources, the others `own`'s. */
export function crossPaths(op: Operation, victim: Twin, own: Twin): string[] {
  const n = op.pathParams.length;
  const paths: string[] = [];
  for (let mask = 1; mask < 1 << n; mask++) {
    paths.push(pathOf(op, (p) => ((mask >> op.pathParams.indexOf(p)) & 1 ? victim : own)));
  }
  return paths;
}

// Values for body fields by name, where any string of the schema's length would not do.
const HINTS: Record<string, unknown> = {
  email: "someone-iso@example.com",
  password: PASSWORD,
  current_password: PASSWORD,
  // The same: a walk changing B's owner's password would keep the walk's later requests out.
  new_password: PASSWORD,
  url: "https://hooks.example.com/iso",
  events: ["blog.post.*"],
  permissions: ["blog.post.read"],
  scopes: ["blog.post.read"],
  roles: ["member"],
  name: "iso name",
};

/** The time and date the walk sends where a schema asks for one (`format: date-time`, `date`). */
export const WALK_TIME = "2030-01-01T00:00:00.000Z";

/** The smallest value `schema` takes: required fields only, each at its lower bound. */
export function smallest(schema: Schema, schemas: Schemas, name = "", depth = 0): unknown {
  if (name in HINTS) return HINTS[name];
  if (depth > 6) return null;
  if (schema.$ref) return smallest(schemas[schema.$ref.split("/").at(-1) ?? ""] ?? {}, schemas, name, depth + 1);
  if (schema.enum) return schema.enum[0];
  if (schema.allOf) {
    return Object.assign({}, ...schema.allOf.map((s) => smallest(s, schemas, name, depth + 1)));
  }
  const alternative = (schema.anyOf ?? schema.oneOf)?.[0];
  if (alternative) return smallest(alternative, schemas, name, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? (schema.properties ? "object" : "string"));
  switch (type) {
    case "object": {
      const required = new Set(schema.required ?? []);
      return Object.fromEntries(
        Object.entries(schema.properties ?? {})
          .filter(([k]) => required.has(k))
          .map(([k, v]) => [k, smallest(v, schemas, k, depth + 1)]),
      );
    }
    case "array":
      return Array.from({ length: schema.minItems ?? 0 }, () => smallest(schema.items ?? {}, schemas, "", depth + 1));
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      if (schema.format === "email") return HINTS.email;
      if (schema.format === "uri") return HINTS.url;
      // A time a module's route takes (an invoice's due date): "x" is no RFC 3339 time, and a 400
      // for it failed the walk's own request on B's resource. In the future, for "due by" rules.
      if (schema.format === "date-time") return WALK_TIME;
      if (schema.format === "date") return WALK_TIME.slice(0, 10);
      return "x".repeat(Math.max(1, schema.minLength ?? 1));
  }
}

/** The body `op` is sent: its JSON schema's smallest value, or a few bytes of its first media type. */
export function bodyOf(
  op: Operation,
  overrides: Record<string, unknown>,
): { type: string; body: string | Uint8Array } | undefined {
  if (op.bodySchema) {
    const value = {
      ...(smallest(op.bodySchema, op.schemas) as object),
      ...((overrides[op.operationId] as object) ?? {}),
    };
    return { type: "application/json", body: JSON.stringify(value) };
  }
  const type = op.bodyTypes.includes("text/plain") ? "text/plain" : op.bodyTypes[0];
  return type === undefined ? undefined : { type, body: new TextEncoder().encode("iso") };
}

/** `op` as `token` sends it to `url`, with `extra` headers. */
export function requestOf(
  op: Operation,
  url: string,
  token: string | undefined,
  overrides: Record<string, unknown>,
  extra: Record<string, string> = {},
): WalkRequest {
  const headers: Record<string, string> = { ...extra };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = op.method === "GET" ? undefined : bodyOf(op, overrides);
  if (body) headers["content-type"] = body.type;
  return { method: op.method, url, headers, body: body?.body };
}
