import { z } from "zod";
import { EraseRpc } from "../../kernel/durable/erase";
import { defineRpc, rpcClient } from "../../kernel/durable/rpc";
import { OriginSchema } from "../../kernel/events/origin";

/**
 * The RPC contract of the FileStore actor (kernel/actors), one per tenant,
 * named by the tenant id: the single writer of the tenant's file metadata,
 * its storage usage and its quota. It reserves quota before an upload
 * streams to R2, turns the reservation into a file when the upload ends, and
 * records `files.file.uploaded|deleted` in its outbox in the same
 * transaction. The D1 `files` table is the projection of those events.
 */

const Id = z.string().min(1).max(64);
const Bytes = z.number().int().min(0);

/** A file as the API shows it. */
export const FileSchema = z.object({
  id: Id,
  name: z.string(),
  content_type: z.string(),
  size: Bytes,
  /** Lower-case hex SHA-256 of the bytes, computed while they streamed in. */
  sha256: z.string(),
  /** The user's or API key's id that uploaded it. */
  created_by: z.string(),
  created_at: z.string(),
});
export type FileView = z.infer<typeof FileSchema>;

/** The tenant's storage: what it uses (reservations of running uploads included) and its quota. */
export const UsageSchema = z.object({
  used_bytes: Bytes,
  files: z.number().int().min(0),
  quota_bytes: Bytes,
  /** The tenant's own quota; null: the platform's default applies. */
  tenant_quota_bytes: Bytes.nullable(),
});
export type Usage = z.infer<typeof UsageSchema>;

const QuotaExceeded = z.object({
  ok: z.literal(false),
  error: z.literal("quota_exceeded"),
  quota_bytes: Bytes,
  used_bytes: Bytes,
});

/** Rows per `page` of the store's files. */
export const FILES_PAGE = 500;

export const FileStoreRpc = defineRpc({
  /** Offboarding: forgets every file, reservation and the usage (the R2 objects are the caller's to delete). */
  ...EraseRpc,
  /** Holds `bytes` of the quota for an upload about to stream, until `commit`, `release` or expiry. */
  reserve: {
    args: z.object({
      tenant_id: Id,
      id: Id,
      bytes: Bytes,
      name: z.string().max(1024),
      content_type: z.string().max(200),
      created_by: z.string().max(200),
      now: z.string(),
    }),
    reply: z.discriminatedUnion("ok", [z.object({ ok: z.literal(true) }), QuotaExceeded]),
  },
  /** The upload is in R2: the reservation becomes the file, and `files.file.uploaded` is recorded. */
  commit: {
    args: z.object({
      ctx: OriginSchema,
      tenant_id: Id,
      id: Id,
      size: Bytes,
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
    reply: z.discriminatedUnion("ok", [
      z.object({ ok: z.literal(true), file: FileSchema }),
      z.object({ ok: z.literal(false), error: z.literal("expired") }),
    ]),
  },
  /** The upload failed: frees its reservation (nothing if it was committed or already freed). */
  release: { args: z.object({ id: Id }), reply: z.object({}) },
  /** Deletes a file and records `files.file.deleted`; its R2 object is deleted by the caller and again by a timer. */
  remove: { args: z.object({ ctx: OriginSchema, tenant_id: Id, id: Id }), reply: z.object({ ok: z.boolean() }) },
  get: { args: z.object({ id: Id }), reply: FileSchema.nullable() },
  /**
   * The stored rows after position `after` (0: from the first), in storage order, for a
   * rebuild of the `files` read model: the ready files among them, how many rows it read
   * (uploads still pending included) and the position of the last.
   */
  page: {
    args: z.object({ after: z.number().int().min(0), limit: z.number().int().min(1).max(FILES_PAGE) }),
    reply: z.object({ files: z.array(FileSchema), read: z.number().int().min(0), last: z.number().int().min(0) }),
  },
  usage: { args: z.object({}), reply: UsageSchema },
  /** Sets the tenant's own quota (null: the platform's default) and records `files.quota.updated`. */
  setQuota: { args: z.object({ ctx: OriginSchema, tenant_id: Id, quota_bytes: Bytes.nullable() }), reply: UsageSchema },
});

/** The tenant's file store. */
export const fileStore = (env: Env, tenantId: string) =>
  rpcClient(FileStoreRpc, env.FILE_STORE.getByName(tenantId), "FileStore");
