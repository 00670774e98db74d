import { createRoute, z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../generated/permissions";
import { principalOf, refuseUnavailableTenant, tenantOf } from "../../kernel/auth/guards";
import { newId } from "../../kernel/crypto";
import { AppError, moduleError } from "../../kernel/errors";
import { originOf } from "../../kernel/events/origin";
import { declaredSha256 } from "../../kernel/http/streamed-body";
import { errorFields } from "../../kernel/log";
import {
  IdPageQuery,
  IdParam,
  jsonBody,
  jsonResponse,
  LOCATION_HEADER,
  listOf,
  page,
} from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, problem } from "../../kernel/openapi/router";
import { readModels } from "../../kernel/read-models";
import { FileSchema, fileStore, UsageSchema } from "./contract";
import { mismatchDetail, mismatchedDigest } from "./digests";
import { BINARY, DOWNLOAD_RESPONSES, DownloadHeaders, WriteConditionHeaders } from "./download-spec";
import { fileErrors } from "./errors";
import {
  ALLOWED_TYPES,
  cleanName,
  fileLimits,
  isFileId,
  MAX_NAME_BYTES,
  objectKey,
  safeName,
  typedName,
  utf8Length,
} from "./policy";
import { listFiles } from "./read-model";
import { fileNotFound, requireWritePreconditions, serveFile } from "./serve";
import {
  DEFAULT_URL_SECONDS,
  expiryOf,
  MAX_URL_SECONDS,
  requireMintedForm,
  SignedQuery,
  signedPath,
  signedTenant,
  signingKeys,
} from "./signed-url";
import { signDownload, verifyDownload } from "./signing";
import { BodyLengthError, type Stored, streamToR2 } from "./upload";
import { admit } from "./upload-checks";

const op = operations(["files"]);
const File = FileSchema.openapi("File");
const Usage = UsageSchema.openapi("FileUsage");

const upload = op.post("/files", {
  operationId: "uploadFile",
  summary: "Upload a file: the raw body, its type in Content-Type, its size in Content-Length",
  access: PERMISSIONS.files.file.write,
  streamsBody: true,
  request: {
    query: z.object({
      name: z
        .string()
        .max(1024)
        .refine((raw) => utf8Length(cleanName(raw)) <= MAX_NAME_BYTES, {
          message: `at most ${MAX_NAME_BYTES} bytes of UTF-8 (its last path segment, NFC, without controls)`,
        })
        .optional()
        .openapi({
          description: `the file's name; sanitised (its last path segment, NFC, no controls), at most ${MAX_NAME_BYTES} bytes of UTF-8 once sanitised (longer is 400), and ending in an extension of its type (added if not, the name cut to keep it within ${MAX_NAME_BYTES} bytes)`,
        }),
    }),
    headers: z.object({
      "content-digest": z.string().max(512).optional().openapi({
        description:
          "`sha-256=:<base64>:` (RFC 9530): checked against the bytes received (400 `digest_mismatch`); it or `Repr-Digest` is required with `Idempotency-Key`",
      }),
      "repr-digest": z.string().max(512).optional().openapi({
        description:
          "`sha-256=:<base64>:` (RFC 9530): the same bytes as `Content-Digest` for an upload, checked the same way",
      }),
    }),
    body: {
      required: true,
      description: "the file's bytes, streamed to storage; its media type must be one of those listed",
      content: Object.fromEntries(ALLOWED_TYPES.map((t) => [t, { schema: BINARY }])),
    },
  },
  responses: {
    201: jsonResponse("the file, with the SHA-256 of what was received", File, LOCATION_HEADER),
    400: problem(
      "a body shorter or longer than its Content-Length, a `Content-Digest` or `Repr-Digest` without sha-256, or a `digest_mismatch`",
    ),
    409: problem("the upload outlived its quota reservation (`upload_expired`)"),
    411: problem("no Content-Length (`length_required`)"),
    413: problem("larger than the largest file allowed (`payload_too_large`), or past the quota (`quota_exceeded`)"),
    415: problem("a media type the platform does not store (`unsupported_media_type`)"),
  },
});

const list = op.get("/files", {
  operationId: "listFiles",
  summary: "The tenant's files, newest first (eventually consistent; a file shows once its upload answered)",
  access: PERMISSIONS.files.file.read,
  request: { query: IdPageQuery },
  responses: { 200: jsonResponse("a page of files", listOf(File)) },
});

const download = op.get("/files/{id}", {
  operationId: "downloadFile",
  summary: "Download a file through the Worker; honours one `Range` (206)",
  access: PERMISSIONS.files.file.read,
  request: { params: IdParam, headers: DownloadHeaders },
  responses: {
    ...DOWNLOAD_RESPONSES,
    404: problem("no such file"),
    412: problem("`If-Match` or `If-Unmodified-Since` is false (`version_conflict`, with the file's `ETag`)"),
    416: problem("the range names no byte of the file (`range_not_satisfiable`)"),
  },
});

const signUrl = op.post("/files/{id}/url", {
  operationId: "createFileUrl",
  summary: "A signed download URL that needs no credential, until it expires",
  access: PERMISSIONS.files.file.read,
  request: {
    params: IdParam,
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z.object({
            expires_in: z
              .number()
              .int()
              .min(1)
              .max(MAX_URL_SECONDS)
              .optional()
              .openapi({ description: `seconds, at most ${MAX_URL_SECONDS} (default ${DEFAULT_URL_SECONDS})` }),
          }),
        },
      },
    },
  },
  responses: {
    200: jsonResponse(
      "the URL and when it stops working",
      z.object({ url: z.string(), expires_at: z.string() }).openapi("FileUrl"),
    ),
    404: problem("no such file"),
    503: problem("no ENCRYPTION_KEYS to sign with (`unavailable`)"),
  },
});

const remove = op.delete("/files/{id}", {
  operationId: "deleteFile",
  summary: "Delete a file; its signed URLs stop working",
  access: PERMISSIONS.files.file.delete,
  request: { params: IdParam, headers: WriteConditionHeaders },
  responses: {
    204: { description: "deleted" },
    404: problem("no such file"),
    412: problem(
      "`If-Match`, `If-Unmodified-Since` or `If-None-Match` is false (`version_conflict`, with the file's `ETag`); nothing deleted",
    ),
  },
});

const getQuota = op.get("/admin/files/quota", {
  operationId: "getFileQuota",
  summary: "The tenant's storage: bytes used, files, quota",
  access: PERMISSIONS.admin.settings.read,
  responses: { 200: jsonResponse("usage and quota", Usage) },
});

const putQuota = op.put("/admin/files/quota", {
  operationId: "setFileQuota",
  summary: "Set the tenant's own storage quota (null: the platform's), at most the platform's",
  access: PERMISSIONS.admin.settings.write,
  request: {
    body: jsonBody(z.object({ quota_bytes: z.number().int().min(0).nullable() })),
  },
  responses: {
    200: jsonResponse("usage and the new quota", Usage),
    400: problem("a quota above the platform's"),
  },
});

// Declared without `operations()`: the signature is the credential, no principal is needed.
const signedDownload = createRoute({
  method: "get",
  path: "/files/{id}/download",
  operationId: "downloadFileSigned",
  summary: "Download a file with a signed URL (no credential); honours one `Range` (206)",
  tags: ["files"],
  security: [],
  middleware: [signedTenant] as const,
  request: { params: IdParam, query: SignedQuery, headers: DownloadHeaders },
  responses: {
    ...DOWNLOAD_RESPONSES,
    403: problem("an altered signature (`url_signature_invalid`), or an expired URL (`url_expired`)"),
    404: problem("no such file (deleted since the URL was signed)"),
    412: problem("`If-Match` or `If-Unmodified-Since` is false (`version_conflict`, with the file's `ETag`)"),
    416: problem("the range names no byte of the file (`range_not_satisfiable`)"),
    503: problem("no ENCRYPTION_KEYS to verify with (`unavailable`)"),
  },
});

/** `/api/v1/files` and `/api/v1/admin/files/quota`. */
export const fileRoutes = createRouter()
  .openapi(upload, async (c) => {
    const tenant = tenantOf(c);
    const principal = principalOf(c, "user", "api_key");
    const { length, contentType } = admit(c);
    const sent = c.req.valid("header");
    const declared = [
      { field: "Content-Digest" as const, sha256: declaredSha256(sent["content-digest"]) },
      { field: "Repr-Digest" as const, sha256: declaredSha256(sent["repr-digest"], "Repr-Digest") },
    ];
    const now = c.get("clock").now();
    const id = newId(now.getTime());
    // Saved under an extension of its type: the desktop opens a download by its name, not its Content-Type.
    const name = typedName(safeName(c.req.valid("query").name, id), contentType);
    const store = fileStore(c.env, tenant.id);
    const reserved = await store.reserve({
      tenant_id: tenant.id,
      id,
      bytes: length,
      name,
      content_type: contentType,
      created_by: principal.id,
      now: now.toISOString(),
    });
    if (!reserved.ok) {
      throw moduleError(fileErrors, "quota_exceeded", {
        detail: `${length} bytes more would pass the quota: ${reserved.used_bytes} of ${reserved.quota_bytes} bytes are used`,
        extensions: { quota_bytes: reserved.quota_bytes, used_bytes: reserved.used_bytes },
      });
    }
    const key = objectKey(tenant.id, id);
    let stored: Stored;
    try {
      stored = await streamToR2(c.env.FILES, key, c.req.raw.body, length, { contentType, name });
      const mismatch = mismatchedDigest(declared, stored.sha256);
      if (mismatch) {
        throw moduleError(fileErrors, "digest_mismatch", {
          detail: mismatchDetail(mismatch, stored.sha256),
        });
      }
    } catch (error) {
      // Nothing of a failed upload stays: neither its reservation nor its object.
      await Promise.allSettled([store.release({ id }), c.env.FILES.delete(key)]);
      if (error instanceof BodyLengthError) {
        throw new AppError("validation_failed", {
          detail: error.message,
          errors: [{ path: "header.content-length", message: "must be the body's size" }],
        });
      }
      throw error;
    }
    // Should this call fail, the commit may have happened: the object stays, and the
    // reservation's expiry deletes it only if it did not.
    const committed = await store.commit({ ctx: originOf(c), tenant_id: tenant.id, id, ...stored });
    if (!committed.ok) {
      await c.env.FILES.delete(key);
      throw moduleError(fileErrors, "upload_expired", { detail: "the upload outlived its reservation; upload again" });
    }
    c.header("Location", `/api/v1/files/${id}`);
    return c.json(committed.file, 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await listFiles(readModels(c.env), { tenantId: tenantOf(c).id, cursor, limit: limit + 1 });
    const items = rows.map((r) => FileSchema.parse(r));
    return c.json(
      page(items, limit, (f) => f.id),
      200,
    );
  })
  .openapi(download, async (c) => serveFile(c, tenantOf(c).id, c.req.valid("param").id))
  .openapi(signUrl, async (c) => {
    const tenant = tenantOf(c);
    const { id } = c.req.valid("param");
    const keys = signingKeys(c);
    if (!isFileId(id) || !(await c.env.FILES.head(objectKey(tenant.id, id)))) throw fileNotFound();
    const exp = expiryOf(c.get("clock").now(), c.req.valid("json").expires_in ?? DEFAULT_URL_SECONDS);
    const q = await signDownload(keys, tenant.id, id, exp);
    // A bearer capability: not cached, not kept by the idempotency store.
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        url: new URL(signedPath(id, q), c.req.url).href,
        expires_at: new Date(exp * 1000).toISOString(),
      },
      200,
    );
  })
  .openapi(signedDownload, async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    // Only the URL as minted: a decoded, reordered or extended copy of it is refused before the signature.
    requireMintedForm(c.req.url, id, query);
    const verdict = await verifyDownload(signingKeys(c), id, query, c.get("clock").now());
    if (verdict === "invalid") {
      throw moduleError(fileErrors, "url_signature_invalid", { detail: "the URL's signature does not verify" });
    }
    if (verdict === "expired") {
      throw moduleError(fileErrors, "url_expired", {
        detail: `the URL expired at ${new Date(query.exp * 1000).toISOString()}`,
      });
    }
    // A signed URL is its tenant's credential: a suspended tenant's are refused like its keys.
    await refuseUnavailableTenant(c, query.tenant);
    // The signature proved the tenant: the answer's CORS is that tenant's (kernel/http/cors.ts), also on a host that names none.
    c.set("tenantId", query.tenant);
    return serveFile(c, query.tenant, id);
  })
  .openapi(remove, async (c) => {
    const tenant = tenantOf(c);
    const { id } = c.req.valid("param");
    if (!isFileId(id)) throw fileNotFound();
    await requireWritePreconditions(c, tenant.id, id);
    const { ok } = await fileStore(c.env, tenant.id).remove({ ctx: originOf(c), tenant_id: tenant.id, id });
    if (!ok) throw fileNotFound();
    // Gone before the answer, so a download right after is 404; the store's timer deletes it too, should this fail.
    await c.env.FILES.delete(objectKey(tenant.id, id)).catch((error: unknown) => {
      c.get("log").warn("file object not deleted; the store's timer will", errorFields(error));
    });
    return c.body(null, 204);
  })
  .openapi(getQuota, async (c) => {
    return c.json(await fileStore(c.env, tenantOf(c).id).usage({}), 200);
  })
  .openapi(putQuota, async (c) => {
    const tenant = tenantOf(c);
    const { quota_bytes } = c.req.valid("json");
    const { quotaBytes } = fileLimits(c.env);
    if (quota_bytes !== null && quota_bytes > quotaBytes) {
      throw new AppError("validation_failed", {
        detail: `the platform allows a tenant at most ${quotaBytes} bytes`,
        errors: [{ path: "body.quota_bytes", message: `at most ${quotaBytes}` }],
      });
    }
    const usage = await fileStore(c.env, tenant.id).setQuota({ ctx: originOf(c), tenant_id: tenant.id, quota_bytes });
    return c.json(usage, 200);
  });
