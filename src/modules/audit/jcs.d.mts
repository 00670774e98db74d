/** RFC 8785 canonical JSON of a value (see jcs.mjs). */
export function canonicalize(value: unknown): string;
