import { z } from "zod";
import { LOOPBACK_HOST } from "../config/loopback";

/** Whether the URL sends its token in the clear (http/ws, or libsql:// with `?tls=0`). */
function plaintext(url: URL): boolean {
  if (url.protocol === "http:" || url.protocol === "ws:") return true;
  return url.protocol === "libsql:" && url.searchParams.get("tls") === "0";
}

/** Why READ_MODEL_URL cannot serve the Worker, or null. */
function urlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a libsql://, https:// or wss:// URL of the libSQL server";
  }
  if (url.protocol === "file:") {
    return "file: URLs work only from Node (npx plinth db migrate, tests); the Worker reaches libSQL over libsql:// or https://";
  }
  if (!["libsql:", "https:", "wss:", "http:", "ws:"].includes(url.protocol)) {
    return "must be a libsql://, https:// or wss:// URL of the libSQL server";
  }
  if (plaintext(url) && !LOOPBACK_HOST.test(url.hostname)) {
    return "must use TLS (http, ws or ?tls=0 only to a loopback host): the request carries the token";
  }
  if (url.username !== "" || url.password !== "" || url.searchParams.has("authToken")) {
    return "must not carry credentials (the token goes in READ_MODEL_AUTH_TOKEN)";
  }
  return null;
}

/**
 * The read-model database variables (docs/read-models.md). Unset, read models
 * live in D1 (the `DB` binding). READ_MODEL_URL moves them to a libSQL server
 * (Turso, or a self-hosted sqld) reached over HTTP from the Worker; its token
 * is a secret. Messages name the expectation, never the value.
 */
export const ReadModelEnvSchema = z.object({
  READ_MODEL_URL: z
    .string()
    .superRefine((v, ctx) => {
      const problem = urlProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  // Secret: sent as `Authorization: Bearer <token>`; visible ASCII only, so it cannot split a header.
  READ_MODEL_AUTH_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{1,8192}$/, "must be 1 to 8192 visible ASCII characters (the libSQL token)")
    .optional(),
});

/** Where read models live. A libSQL target holds a secret (`authToken`); never logged. */
export type ReadModelTarget = { kind: "d1" } | { kind: "libsql"; url: string; authToken: string | undefined };

/** The target from parsed variables, or the issue of a token given without a URL. */
export function readModelTarget(
  e: z.infer<typeof ReadModelEnvSchema>,
): { ok: true; target: ReadModelTarget } | { ok: false; issues: { variable: string; message: string }[] } {
  if (e.READ_MODEL_URL)
    return { ok: true, target: { kind: "libsql", url: e.READ_MODEL_URL, authToken: e.READ_MODEL_AUTH_TOKEN } };
  if (e.READ_MODEL_AUTH_TOKEN) {
    return {
      ok: false,
      issues: [
        { variable: "READ_MODEL_AUTH_TOKEN", message: "is set without READ_MODEL_URL (the libSQL server it is for)" },
      ],
    };
  }
  return { ok: true, target: { kind: "d1" } };
}
