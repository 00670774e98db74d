import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { AppError, type FieldError, fieldPath } from "../errors";

const TARGET_PREFIX: Record<string, string> = {
  json: "body",
  form: "body",
  query: "query",
  param: "path",
  header: "header",
  cookie: "cookie",
};

/**
 * zod's own message for a value that is no ISO date-time, and the one a client is given: it named
 * neither the form nor an example, so `plinth keys create … --expires-at 2027-01-01` (a date
 * alone) could not tell what was wanted. A schema's own message is left as it is.
 */
const ZOD_DATETIME_MESSAGE = "Invalid ISO datetime";
const DATETIME_MESSAGE = "must be an RFC 3339 date-time, e.g. 2027-01-01T00:00:00Z";

/** Turns zod issues into the contract's `errors` list: every bad field, once. */
export function fieldErrors(target: string, error: z.ZodError): FieldError[] {
  const prefix = TARGET_PREFIX[target] ?? target;
  return error.issues.map((issue) => ({
    path: fieldPath([prefix, ...issue.path]),
    message: issue.message === ZOD_DATETIME_MESSAGE ? DATETIME_MESSAGE : issue.message,
  }));
}

/**
 * Creates an OpenAPIHono router whose validation failures become
 * `validation_failed` problems listing every bad field. Every module's
 * routes and the kernel's own are built with it. A required `If-Match` the
 * request left out is `428 precondition_required` (RFC 6585), as the served
 * document lists it for such an operation, not a malformed field.
 *
 * @example
 * export const routes = createRouter().openapi(getThing, async (c) => c.json(…, 200));
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        if (
          result.target === "header" &&
          c.req.header("if-match") === undefined &&
          result.error.issues.some((issue) => issue.path[0] === "if-match")
        ) {
          throw new AppError("precondition_required", { detail: "this write needs If-Match with the current version" });
        }
        const errors = fieldErrors(result.target, result.error);
        throw new AppError("validation_failed", {
          detail: `${errors.length} invalid field${errors.length === 1 ? "" : "s"}`,
          errors,
        });
      }
    },
  });
}

/** A path as {@link fieldPath} writes it, for the document's example. */
const BRACKETED = fieldPath(["body", "rate_limits", "tickets.open", "limit"]);

/**
 * How `errors[].path` is written, for a client reading the document alone: the contract keeps it
 * a string, and a key holding a dot (a module's policy) would otherwise read as two keys.
 */
const FIELD_PATH_DESCRIPTION =
  "Where the invalid field is: `body`, `query`, `path` or `header`, then its keys joined " +
  `with dots, an array's index as a number (\`${fieldPath(["body", "permissions", 2])}\`). A key that is ` +
  "not letters, digits, `_` and `-` alone is written as a JSON string in brackets, so a key " +
  `holding a dot reads as one key: \`${BRACKETED}\`.`;

/** The problem+json body, for OpenAPI response declarations. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "/problems/not_found" }),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ example: "not_found" }),
    detail: z.string(),
    request_id: z.string(),
    errors: z
      .array(
        z.object({
          path: z.string().openapi({ description: FIELD_PATH_DESCRIPTION, example: BRACKETED }),
          message: z.string(),
        }),
      )
      .optional(),
  })
  .openapi("Problem");

/** A problem+json response entry for `createRoute({ responses })`. */
export function problem(description: string) {
  return { description, content: { "application/problem+json": { schema: ProblemSchema } } };
}
