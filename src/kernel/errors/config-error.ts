/**
 * A failure whose fix is a variable's value, not the code: a JWT_SIGNING_KEYS whose pair does
 * not load, a key version ENCRYPTION_KEYS no longer lists. One rule for all of them, wherever
 * they are met (a request, an object over RPC, an actor's timer): the client is told
 * `500 config_invalid` with `detail`, which names the variable, never its value; the operator
 * reads it once, without a stack, which would point at the code that met it as for a bug.
 */
export abstract class ConfigError extends Error {
  /** The variable to fix. */
  abstract readonly variable: string;
  /** What the client is told. */
  abstract readonly detail: string;
  /**
   * Whether it was logged already where it was met, with what it concerned (MissingKeyVersion:
   * by Envelope.decrypt, naming the sealed value's holder): the edge and an actor's
   * supervision then add no line of their own.
   */
  readonly logged: boolean = false;
}

/** What a log line says of a ConfigError: the variable, the error's name and message; no stack. */
export function configErrorFields(error: ConfigError): Record<string, string> {
  return { variable: error.variable, error_name: error.name, error_message: error.message };
}
