/** A JSON array with one new private Ed25519 JWK: a value for JWT_SIGNING_KEYS. */
export function newSigningKeySet(): string;
/** The given JWT_SIGNING_KEYS value with a new key prepended, signing at once (at most 3 kept). */
export function rotateSigningKeySet(existing: string): { value: string; added: string; dropped: string[] };
/** The given value with a new key appended: published and verifying, not signing (at most 3 kept). */
export function stageSigningKey(existing: string): { value: string; added: string; dropped: string[] };
/** The given value with key `kid` moved first, so it signs. */
export function promoteSigningKey(existing: string, kid: string): { value: string };
/** The given value without key `kid`; `signing` names the key that signs afterwards. */
export function dropSigningKey(existing: string, kid: string): { value: string; signing: string };
