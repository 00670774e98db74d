import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";

/** How fresh a read must be: `eventual` reads a D1 read model, `strong` the single writer. */
export type Consistency = "eventual" | "strong";

/** A query with its read-model answer and, optionally, its read-your-writes answer. */
export interface QueryRequest<T> {
  /** Stable name for logs, e.g. `blog.post.get`. */
  name: string;
  consistency: Consistency;
  /** Reads the eventually consistent read model (D1). */
  eventual: () => Promise<T>;
  /** Reads the aggregate's single writer; omit when the query has no strong form. */
  strong?: () => Promise<T>;
}

/**
 * Runs a query against the read model, or — when the caller asks for
 * read-your-writes — against the writer, and logs one `query` line with its
 * name, consistency and duration.
 */
export async function query<T>(c: Context<AppEnv>, request: QueryRequest<T>): Promise<T> {
  const started = performance.now();
  let outcome = "ok";
  try {
    if (request.consistency === "strong") {
      if (!request.strong) {
        throw new AppError("validation_failed", {
          detail: `${request.name} has no strongly consistent form`,
          errors: [{ path: "query.consistency", message: "only eventual is supported here" }],
        });
      }
      return await request.strong();
    }
    return await request.eventual();
  } catch (error) {
    outcome = error instanceof AppError ? error.code : "error";
    throw error;
  } finally {
    c.get("log").info("query", {
      query: request.name,
      consistency: request.consistency,
      outcome,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }
}
