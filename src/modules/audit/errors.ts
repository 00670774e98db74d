import { defineErrorCodes } from "../../kernel/errors/codes";

/**
 * The audit module's error codes, part of the public contract.
 *
 * @example
 * throw moduleError(auditErrors, "audit_verify_too_long", { detail, extensions: { next_from_seq } });
 */
export const auditErrors = defineErrorCodes({
  /**
   * `GET /audit/verify` without parameters ran out of the request's subrequests (one a step)
   * before the walk reached the end: the same request fails the same way, steps of its own do not.
   * `entries_verified` (all ok) and `next_from_seq` say where to go on from.
   */
  audit_verify_too_long: { status: 422, title: "Audit log too long to verify in one request" },
});
