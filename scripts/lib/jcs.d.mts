/** RFC 8785 canonical JSON of a value (see src/modules/audit/jcs.ts). */
export function canonicalize(value: unknown): string;
