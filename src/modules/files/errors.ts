import { defineErrorCodes } from "../../kernel/errors/codes";

/**
 * The files module's error codes, part of the public contract. A file that
 * does not exist, was deleted, or is another tenant's is the kernel's
 * `not_found`; a file over the size limit is the kernel's
 * `payload_too_large`, a media type off the allow-list its
 * `unsupported_media_type`.
 */
export const fileErrors = defineErrorCodes({
  /** The upload would take the tenant past its storage quota; `detail` says by how much. */
  quota_exceeded: { status: 413, title: "Storage quota exceeded" },
  /** An upload must say its size (`Content-Length`): R2 takes a stream of known length, and the quota is reserved first. */
  length_required: { status: 411, title: "Content-Length required" },
  /** The body's SHA-256 is not the one its `Content-Digest` or `Repr-Digest` declared (`detail` names which); nothing was stored. */
  digest_mismatch: { status: 400, title: "Digest mismatch" },
  /** The upload took longer than its quota reservation lives; nothing was stored. */
  upload_expired: { status: 409, title: "Upload took too long" },
  /** `Range` names no byte of the file; `Content-Range` gives its size. */
  range_not_satisfiable: { status: 416, title: "Range not satisfiable" },
  /** A signed download URL whose signature does not verify (altered, or for another file or tenant). */
  url_signature_invalid: { status: 403, title: "Invalid signed URL" },
  /** A signed download URL past its `exp`. */
  url_expired: { status: 403, title: "Signed URL expired" },
});
