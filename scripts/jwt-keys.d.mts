/** A JSON array with one new private Ed25519 JWK: a value for JWT_SIGNING_KEYS. */
export function newSigningKeySet(): string;
/** The given JWT_SIGNING_KEYS value with a new key prepended (at most 3 kept). */
export function rotateSigningKeySet(existing: string): string;
