/**
 * Parses a JSON column of a stored row. On text that is not JSON it throws
 * `${what} is not valid JSON`, with no cause: V8's own SyntaxError quotes part of
 * the text (`Unexpected token 'x', "…" is not valid JSON`), and from there it
 * reaches the logs (errorFields) and a job run's record, a snippet of a mail's
 * body, an endpoint's secrets or a setting's value with it. `what` names the row
 * and column (by id or seq, never by anything read from the row's content).
 *
 * @example
 * const secrets = Secrets.parse(storedJson(r.secrets, `webhook endpoint ${r.id} secrets`));
 */
export function storedJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}
