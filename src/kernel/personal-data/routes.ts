import { z } from "@hono/zod-openapi";
import { principalOf, tenantOf } from "../auth/guards";
import { isoNow } from "../clock";
import type { PersonalData } from "../modules/personal-data";
import { requestRuntime } from "../modules/request-runtime";
import type { ModuleDef } from "../modules/types";
import { jsonResponse } from "../openapi/blocks";
import { operations } from "../openapi/operation";
import { createRouter, problem } from "../openapi/router";
import { enforce } from "../ratelimit/limiter";

const NO_STORE = {
  "Cache-Control": {
    description: "`no-store`: the export is the person's data, for them only, never kept by a cache on the way",
    required: true,
    schema: { type: "string" as const },
  },
};

/** The modules that declare personal data, by name, in dependency order. */
function exporters(modules: readonly ModuleDef[]): [string, PersonalData][] {
  return modules.flatMap((m) => (m.personal_data ? [[m.name, m.personal_data] as [string, PersonalData]] : []));
}

/**
 * `GET /api/v1/me/export`: a signed-in user's copy of what the tenant's plinth holds about them
 * (GDPR art. 15 right of access, art. 20 portability), one JSON document with every module that
 * declares `personal_data` under its name. A user only: an API key is no person (403 before
 * anything). Limited by `personal_export` per tenant and user, charged before any module reads,
 * since each export reads every module's records of the person. The answer is `no-store`.
 * See docs/identity.md, "What an export holds".
 */
export function personalDataOperations(platform: { modules: readonly ModuleDef[] }) {
  const parts = exporters(platform.modules);
  const ExportSchema = z
    .object({
      tenant_id: z.string(),
      user_id: z.string(),
      exported_at: z.string().openapi({ description: "when the export was read (RFC 3339)" }),
      modules: z.object(Object.fromEntries(parts.map(([name, part]) => [name, part.schema]))).openapi({
        description: "each module's part, under its name; a module that keeps nothing of a person has none",
      }),
    })
    .openapi("PersonalDataExport");

  const exportMine = operations(["users"]).get("/me/export", {
    operationId: "exportMyData",
    summary: "A copy of your personal data across every module (GDPR access and portability)",
    access: "user",
    responses: {
      200: jsonResponse("your data, each module's part under its name, each list bounded", ExportSchema, NO_STORE),
      403: problem("the caller is an API key: an export is a person's"),
      429: problem("too many exports (policy personal_export)"),
    },
  });

  return createRouter().openapi(exportMine, async (c) => {
    const user = principalOf(c, "user");
    const tenant = tenantOf(c);
    await enforce(c, "personal_export", `${tenant.id}:${user.id}`);
    const runtime = requestRuntime(c, platform.modules);
    const subject = { tenantId: tenant.id, userId: user.id };
    // Parsed with each module's own schema: a field it did not declare (a hash read with a row) never leaves.
    const answers = await Promise.all(
      parts.map(async ([name, part]) => [name, part.schema.parse(await part.export(subject, runtime))] as const),
    );
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        tenant_id: tenant.id,
        user_id: user.id,
        exported_at: isoNow(c.get("clock")),
        modules: Object.fromEntries(answers),
      },
      200,
    );
  });
}
