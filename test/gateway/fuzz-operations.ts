// The operations of the served OpenAPI document, as the walk (input-fuzz.test.ts) needs them.
import type { Schema as BodySchema, Schemas } from "./fuzz-schema";

/** One operation of the served OpenAPI document, as the walk needs it. */
export interface Operation {
  method: string;
  path: string;
  operationId: string;
  pathParams: string[];
  queryParams: string[];
  /** Each path and query parameter's schema, by name (`path:id`, `query:cursor`), where it declares one. */
  paramSchemas: Record<string, BodySchema>;
  /** Header and cookie parameters the operation declares, beyond those every walk request varies. */
  headerParams: string[];
  cookieParams: string[];
  /** The body's media types, empty when the operation takes none. */
  bodyTypes: string[];
  /** Top-level property names of the JSON body's schema, to aim wrong types at. */
  bodyProps: string[];
  /** The JSON body's schema, and the document's named schemas it may refer to. */
  bodySchema?: BodySchema;
  schemas: Schemas;
  secured: boolean;
}

/** A request as the walk sends it: a path with its query, and a fetch init. */
export interface FuzzRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Sent as a stream of chunks with no Content-Length, as a chunked upload arrives. */
  chunked: boolean;
}

type Schema = { $ref?: string; properties?: Record<string, unknown>; allOf?: Schema[]; anyOf?: Schema[] };
type Doc = {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components?: { schemas?: Record<string, Schema> };
};

function propsOf(schema: Schema | undefined, doc: Doc, depth = 0): string[] {
  if (!schema || depth > 5) return [];
  if (schema.$ref) return propsOf(doc.components?.schemas?.[schema.$ref.split("/").at(-1) ?? ""], doc, depth + 1);
  const nested = [...(schema.allOf ?? []), ...(schema.anyOf ?? [])].flatMap((s) => propsOf(s, doc, depth + 1));
  return [...Object.keys(schema.properties ?? {}), ...nested];
}

// Headers every walk request varies on its own (headersOf).
const COMMON_HEADERS = ["authorization", "x-tenant", "if-match", "idempotency-key", "x-request-id", "accept"];

/** Every operation of `doc`, in document order. */
export function operationsOf(doc: Doc): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const params = (raw.parameters ?? []) as { name: string; in: string; schema?: BodySchema }[];
      const content = ((raw.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content ??
        {}) as Record<string, { schema?: Schema }>;
      ops.push({
        method: method.toUpperCase(),
        path,
        operationId: String(raw.operationId),
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
        queryParams: params.filter((p) => p.in === "query").map((p) => p.name),
        paramSchemas: Object.fromEntries(
          params.filter((p) => p.schema !== undefined).map((p) => [`${p.in}:${p.name}`, p.schema as BodySchema]),
        ),
        headerParams: params
          .filter((p) => p.in === "header" && !COMMON_HEADERS.includes(p.name.toLowerCase()))
          .map((p) => p.name.toLowerCase()),
        cookieParams: params.filter((p) => p.in === "cookie").map((p) => p.name),
        bodyTypes: Object.keys(content),
        bodyProps: [...new Set(propsOf(content["application/json"]?.schema, doc))],
        bodySchema: content["application/json"]?.schema as BodySchema | undefined,
        schemas: (doc.components?.schemas ?? {}) as Schemas,
        secured: Array.isArray(raw.security) && raw.security.length > 0,
      });
    }
  }
  return ops;
}
