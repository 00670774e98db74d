export { AppError, type AppErrorOptions, type FieldError, moduleError } from "./app-error";
export { defineErrorCodes, type ErrorCodeSpec, KERNEL_ERROR_CODES, type KernelErrorCode } from "./codes";
export { ConfigError, configErrorFields } from "./config-error";
export { fieldPath } from "./field-path";
export {
  acceptedTypes,
  missingSchema,
  missingTable,
  normaliseError,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  problemResponse,
  toProblem,
} from "./problem";
