/**
 * The HTTP building blocks every module's routes share: ids, pagination, the
 * list envelope, JSON bodies and responses, and If-Match. From the kernel, so
 * a new module needs nothing from another module to write its routes.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { NEW_ID_PATTERN } from "../crypto/tokens";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { type ExpectedVersion, type MatchedVersions, parseIfMatch, parseIfNoneMatch } from "../http/if-match";
import { refusedTags } from "../http/refused-tags";
import { showable, UNSHOWABLE_MESSAGE } from "../text/showable";

/** `{id}` of a path: an opaque id, 1–64 characters. */
export const IdParam = z.object({ id: z.string().min(1).max(64) });

/**
 * A name people read (a user's, a tenant's, an API key's): trimmed, 1–200 characters, none of
 * them a control character or a bidirectional override.
 */
export const DisplayName = z.string().trim().min(1).max(200).refine(showable, UNSHOWABLE_MESSAGE);

/**
 * A list's `?limit=`: a plain decimal integer from 1 to `max` (`fallback` when absent). Not
 * `z.coerce.number()`: Number() also reads `1e1`, `0x10`, ` 1` and `1.0`, and a repeated
 * parameter (an array) became NaN, reported as "received NaN". Every other spelling is a 400
 * whose message says what a limit is.
 *
 * @example
 * z.object({ limit: limitParam(50) }) // ?limit=7 → 7; ?limit=1e1 → 400 naming query.limit
 */
export const limitParam = (fallback: number, max = 100) => {
  const error = `must be a whole number from 1 to ${max}, in plain decimal digits`;
  return z
    .preprocess(
      (raw) => (typeof raw === "string" && /^[0-9]{1,9}$/.test(raw) ? Number(raw) : raw),
      z.number({ error }).int({ error }).min(1, { error }).max(max, { error }),
    )
    .default(fallback)
    .openapi({ type: "integer", minimum: 1, maximum: max, default: fallback });
};

/** `?limit=&cursor=` of every list: 1–100 items (default 20), after the cursor. */
export const PageQuery = z.object({
  limit: limitParam(20),
  cursor: z.string().max(64).optional(),
});

/**
 * A list's `cursor` parameter: what `pattern` (unanchored) matches, as the list's
 * `next_cursor` gives it, or empty (`?cursor=`, a client passing on a null next_cursor as
 * text), which is the first page. Anything else is refused with 400, rather than read as a
 * position in the list (a mistyped cursor answered a whole list, or none, as if it were a page).
 */
const cursorParam = (pattern: string) =>
  z
    .string()
    .regex(new RegExp(`^(?:${pattern})?$`), "must be a next_cursor value this list returned")
    .optional()
    .transform((cursor) => (cursor === "" ? undefined : cursor));

/** `?limit=&cursor=` of a list keyed by plinth's own ids (kernel `newId`). */
export const IdPageQuery = PageQuery.extend({ cursor: cursorParam(NEW_ID_PATTERN.source.slice(1, -1)) });

/** `?limit=&cursor=&tenant_id=&pending=` of the platform's dead-letter lists (events, mail): one tenant's, not replayed yet. */
export const DeadLetterPageQuery = IdPageQuery.extend({
  tenant_id: z.string().min(1).max(64).optional(),
  pending: z.enum(["true", "false"]).optional(),
});

/** `?limit=&cursor=` of a list keyed by a position (the audit log's seq, a delivery log's). */
export const PositionPageQuery = PageQuery.extend({ cursor: cursorParam("[1-9][0-9]{0,14}") });

/** The contract's list envelope: `{ items, next_cursor }`. */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() });

/**
 * One page of a list from `limit + 1` rows read after the cursor: the items,
 * and the cursor of the last one when more rows follow.
 *
 * @example
 * const rows = await db.select().from(t).where(gt(t.id, cursor ?? "")).orderBy(t.id).limit(limit + 1);
 * return c.json(page(rows.map(view), limit, (v) => v.id), 200);
 */
export function page<T>(rows: readonly T[], limit: number, cursorOf: (item: T) => string) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}

/**
 * A JSON request body for `createRoute`. An object schema is made strict: a field the
 * operation does not take is a 400 naming it, never silently dropped (`expiresAt` for
 * `expires_at` made a key that never expires; `enabled: false` on a create made an enabled
 * endpoint). Unions and intersections are taken as given (make their members strict).
 */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema: strict(schema) } },
});

/** `schema`, refusing unknown keys when it is an object (a strict object parses to the same type). */
function strict<T extends z.ZodType>(schema: T): T {
  return schema instanceof z.ZodObject ? (schema.strict() as z.ZodType as T) : schema;
}

/** An OpenAPI header object, as a response's `headers` holds it. */
export type HeaderSpec = {
  description: string;
  required?: boolean;
  schema: { type: "string" | "integer"; minimum?: number };
};

/**
 * `ETag`: the resource's version, quoted. Declared on every response that sets it, so a
 * generated client can read it and send it back as `If-Match`.
 */
export const ETAG_HEADER: Record<"ETag", HeaderSpec> = {
  ETag: {
    description: 'the resource\'s version, quoted (`"3"`): send it back in `If-Match` to write only over this version',
    required: true,
    schema: { type: "string" },
  },
};

/**
 * `Location` of a 201: the path of the created resource, where a GET reads it. Declared
 * only where that GET exists (test/node/openapi.test.ts walks the document for it).
 */
export const LOCATION_HEADER: Record<"Location", HeaderSpec> = {
  Location: {
    description: "the path of the created resource, where a GET reads it",
    required: true,
    schema: { type: "string" },
  },
};

/** A JSON response for `createRoute`, with the headers it always carries (`ETAG_HEADER`, `LOCATION_HEADER`). */
export function jsonResponse<T extends z.ZodType>(
  description: string,
  schema: T,
): { description: string; content: { "application/json": { schema: T } } };
export function jsonResponse<T extends z.ZodType, H extends Record<string, HeaderSpec>>(
  description: string,
  schema: T,
  headers: H,
): { description: string; content: { "application/json": { schema: T } }; headers: H };
export function jsonResponse<T extends z.ZodType>(
  description: string,
  schema: T,
  headers?: Record<string, HeaderSpec>,
) {
  return { description, content: { "application/json": { schema } }, ...(headers ? { headers } : {}) };
}

/** The preconditions of a conditional write, `If-Match` and `If-None-Match`, for `createRoute({ request: { headers } })`. */
export const IfMatchHeader = z.object({
  "if-match": z.string().optional().openapi({
    description:
      'The version the write expects, as its ETag `"3"` (or `3`), a list (`"3", "4"`: any of them), or `*` (any); a weak tag (`W/"3"`) never matches. Else 412 version_conflict',
  }),
  "if-none-match": z.string().optional().openapi({
    description:
      'Versions the write must not find, as ETags (`"3"`, `W/"3"`: compared weakly), or `*` (the resource must not exist: a PUT then creates and never overwrites). Else 412 version_conflict',
  }),
});

/**
 * The versions `If-Match` accepts (RFC 9110 13.1.1, see `parseIfMatch`): undefined
 * when the header is absent, `"*"` for `*` (any version of a resource that exists),
 * else the strong versions it lists (one as a number), which the resource's writer
 * compares with its current one (`versionMatches`) in the step that writes, so a
 * weak tag is a 412. 400 when it is not a list of entity-tags. With `required`, a
 * missing header or `*` is 428 `precondition_required` (the resource is too
 * contended or too important to write blind, and `*` names no version).
 *
 * An `If-None-Match` (13.1.2) joins it as `{ match, not }`: the versions it names (weakly),
 * or `*`, which the same writer then refuses with the same 412. Read here, once, so every
 * write that takes If-Match honours If-None-Match too, without its route knowing.
 */
export function ifMatch(c: Context<AppEnv>, options: { required?: boolean } = {}): ExpectedVersion | undefined {
  const header = c.req.header("if-match");
  const parsed = header === undefined ? undefined : parseIfMatch(header);
  if (parsed?.kind === "invalid") throw refusedTags("if-match", "If-Match");
  const noneHeader = c.req.header("if-none-match");
  const not = noneHeader === undefined ? undefined : parseIfNoneMatch(noneHeader);
  if (not === "invalid") throw refusedTags("if-none-match", "If-None-Match");
  let match: MatchedVersions | undefined;
  if (parsed === undefined || parsed.kind === "any") {
    if (options.required) {
      throw new AppError("precondition_required", { detail: "this write needs If-Match with the current version" });
    }
    match = parsed && "*";
  } else {
    // One version (the usual `"3"`) stays a number, as writers and their messages have always taken it.
    const [only, ...more] = parsed.versions;
    match = only !== undefined && more.length === 0 ? only : parsed.versions;
  }
  return not === undefined ? match : { match, not };
}
