/**
 * The stable error codes of the HTTP contract, with their status and title.
 * Modules add their own codes with {@link defineErrorCodes}; a code is part of
 * the public contract, so it is never renamed.
 */
export const KERNEL_ERROR_CODES = {
  validation_failed: { status: 400, title: "Validation failed" },
  tenant_required: { status: 400, title: "Tenant required" },
  invalid_token: { status: 400, title: "Invalid token" },
  unauthenticated: { status: 401, title: "Unauthenticated" },
  forbidden: { status: 403, title: "Forbidden" },
  tenant_mismatch: { status: 403, title: "Tenant mismatch" },
  tenant_suspended: { status: 403, title: "Tenant suspended" },
  origin_not_allowed: { status: 403, title: "Origin not allowed" },
  not_found: { status: 404, title: "Not found" },
  tenant_not_found: { status: 404, title: "Tenant not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  version_conflict: { status: 412, title: "Version conflict" },
  precondition_required: { status: 428, title: "Precondition required" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  idempotency_key_reused: { status: 422, title: "Idempotency key reused" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal: { status: 500, title: "Internal server error" },
  config_invalid: { status: 500, title: "Configuration invalid" },
  unavailable: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, ErrorCodeSpec>;

/** How one error code is rendered. */
export interface ErrorCodeSpec {
  status:
    | 400
    | 401
    | 403
    | 404
    | 405
    | 409
    | 410
    | 411
    | 412
    | 413
    | 415
    | 416
    | 422
    | 428
    | 429
    | 500
    | 502
    | 503
    | 504;
  title: string;
}

export type KernelErrorCode = keyof typeof KERNEL_ERROR_CODES;

/**
 * Declares a module's own error codes. The name must be snake_case; it is
 * checked once here so a typo fails at start-up, not in production.
 *
 * @example
 * export const blogErrors = defineErrorCodes({
 *   post_already_published: { status: 409, title: "Post already published" },
 * });
 */
export function defineErrorCodes<T extends Record<string, ErrorCodeSpec>>(codes: T): T {
  for (const code of Object.keys(codes)) {
    if (!/^[a-z][a-z0-9_]*$/.test(code)) {
      throw new Error(`error code "${code}" must be snake_case`);
    }
  }
  return codes;
}
