import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { tokenRefused } from "../auth/challenge";
import { principalOf, tenantOf } from "../auth/guards";
import { isoNow } from "../clock";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { type DataSubject, type MemberExport, type PersonalData, SubjectGone } from "../modules/personal-data";
import { providerOf } from "../modules/providers";
import { requestRuntime } from "../modules/request-runtime";
import type { ModuleDef } from "../modules/types";
import { IdParam, jsonResponse } from "../openapi/blocks";
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
 * The export of `subject`, as both routes answer it: every module's part under its name, each
 * parsed with the module's own schema, so a field it did not declare (a hash read with a row)
 * never leaves; `no-store`. A person gone since the request was admitted (a module's
 * {@link SubjectGone}) is answered with `gone()`.
 */
async function exportOf(
  c: Context<AppEnv>,
  modules: readonly ModuleDef[],
  parts: readonly [string, PersonalData][],
  subject: DataSubject,
  gone: () => AppError,
) {
  const runtime = requestRuntime(c, modules);
  const answers = await Promise.all(
    parts.map(async ([name, part]) => [name, part.schema.parse(await part.export(subject, runtime))] as const),
  ).catch((err: unknown) => {
    throw err instanceof SubjectGone ? gone() : err;
  });
  c.header("Cache-Control", "no-store");
  return {
    tenant_id: subject.tenantId,
    user_id: subject.userId,
    exported_at: isoNow(c.get("clock")),
    modules: Object.fromEntries(answers),
  };
}

/**
 * `GET /api/v1/me/export`: a signed-in user's copy of what the tenant's plinth holds about them
 * (GDPR art. 15 right of access, art. 20 portability), one JSON document with every module that
 * declares `personal_data` under its name. A user only: an API key is no person (403 before
 * anything). Limited by `personal_export` per tenant and user, charged before any module reads,
 * since each export reads every module's records of the person; then recorded by the module
 * holding the members (`auth.member_export.recordOwn`), as an administrator's export is. The
 * answer is `no-store`.
 *
 * `GET /api/v1/users/{id}/export`, served when a module declares `auth.member_export`: the same
 * export of a member, for an administrator answering a request that reached the business rather
 * than the product (the person left, cannot sign in, wrote to support). The module's permission
 * (a key may hold it), its rules and its record, asked before any module reads; `member_export`
 * per tenant and caller. See docs/identity.md, "What an export holds".
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

  const gate = providerOf(platform.modules, "member_export");
  const router = createRouter().openapi(exportMine, async (c) => {
    const user = principalOf(c, "user");
    const tenant = tenantOf(c);
    await enforce(c, "personal_export", `${tenant.id}:${user.id}`);
    const gone = () => tokenRefused("the user no longer exists");
    // Recorded before any module reads, as an administrator's export is: a disclosure either way.
    await gate?.recordOwn(c).catch((err: unknown) => {
      throw err instanceof SubjectGone ? gone() : err;
    });
    const subject = { tenantId: tenant.id, userId: user.id };
    return c.json(await exportOf(c, platform.modules, parts, subject, gone), 200);
  });

  return gate ? router.route("/", memberExportRouter(platform.modules, parts, ExportSchema, gate)) : router;
}

/** `GET /api/v1/users/{id}/export`: an administrator's copy of one member's export. */
function memberExportRouter(
  modules: readonly ModuleDef[],
  parts: readonly [string, PersonalData][],
  ExportSchema: z.ZodType,
  gate: MemberExport,
) {
  const exportTheirs = operations(["users"]).get("/users/{id}/export", {
    operationId: "exportUserData",
    summary: `A copy of a member's personal data across every module, as their own export holds it (${gate.permission})`,
    access: gate.permission,
    request: { params: IdParam },
    responses: {
      200: jsonResponse(
        "the member's data, each module's part under its name, each list bounded",
        ExportSchema,
        NO_STORE,
      ),
      403: problem(`the caller does not hold ${gate.permission}, or the member is an owner and the caller is not`),
      404: problem("no such user in this tenant"),
      429: problem("too many exports by this caller (policy member_export)"),
    },
  });
  return createRouter().openapi(exportTheirs, async (c) => {
    const { id } = c.req.valid("param");
    const tenant = tenantOf(c);
    const caller = principalOf(c, "user", "api_key");
    // Charged first, refusals too: a caller walking ids to find members pays for each.
    await enforce(c, "member_export", `${tenant.id}:${caller.kind}:${caller.id}`);
    await gate.admit(c, id);
    const subject = { tenantId: tenant.id, userId: id };
    return c.json(
      await exportOf(c, modules, parts, subject, () => new AppError("not_found", { detail: "no such user" })),
      200,
    );
  });
}
