import { type ErrorCodeSpec, KERNEL_ERROR_CODES, type KernelErrorCode } from "./codes";

/** One invalid field of a request, as listed in a problem's `errors`. */
export interface FieldError {
  path: string;
  message: string;
}

/** Options of an {@link AppError} beyond its code. */
export interface AppErrorOptions {
  /** Human-readable explanation for this occurrence; sent to the client. */
  detail?: string;
  /** Every invalid field, for `validation_failed`. */
  errors?: FieldError[];
  /** Extra response headers (e.g. `Allow`, `Retry-After`). */
  headers?: Record<string, string>;
  /** Extra members of the problem object (e.g. `current_version`). */
  extensions?: Record<string, unknown>;
  /** The underlying error; logged, never sent. */
  cause?: unknown;
}

/**
 * The one error type that crosses the HTTP edge. Everything a client may see
 * is an AppError with a stable `code`; any other thrown value becomes
 * `internal` with no detail.
 *
 * @example
 * throw new AppError("not_found", { detail: "post 42 does not exist" });
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: ErrorCodeSpec["status"];
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(code: KernelErrorCode, options?: AppErrorOptions);
  constructor(code: string, options: AppErrorOptions & { spec: ErrorCodeSpec });
  constructor(code: string, options: AppErrorOptions & { spec?: ErrorCodeSpec } = {}) {
    const spec = options.spec ?? KERNEL_ERROR_CODES[code as KernelErrorCode];
    super(options.detail ?? spec.title, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = spec.status;
    this.title = spec.title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

/**
 * Builds an AppError for a module-declared code (see `defineErrorCodes`): `code` must be one of
 * `codes`, so a misspelt one fails the typecheck (and, from untyped callers, throws here).
 */
export function moduleError<C extends Record<string, ErrorCodeSpec>>(
  codes: C,
  code: Extract<keyof C, string>,
  options: AppErrorOptions = {},
): AppError {
  const spec = codes[code];
  if (!spec) throw new Error(`unknown module error code "${code}"`);
  return new AppError(code, { ...options, spec });
}
