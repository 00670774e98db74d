/**
 * The request was not sent because of where it would go (the URL, or what its host
 * resolves to). Not retryable: the same URL will be refused again. `reason` is a short
 * sentence fit to show the admin who typed the URL.
 *
 * @example
 * if (error instanceof OutboundRefused) return c.json({ error: error.reason }, 400);
 */
export class OutboundRefused extends Error {
  override readonly name = "OutboundRefused";
  readonly retryable = false;
  readonly reason: string;

  constructor(reason: string) {
    super(`outbound request refused: ${reason}`);
    this.reason = reason;
  }
}

/**
 * The request was allowed but did not complete: DNS failure, connection error, timeout,
 * or a body that broke off. Retryable. The message never contains the response body
 * (receivers' error pages can echo the payload or secrets back).
 *
 * @example
 * if (error instanceof OutboundFailed) await scheduleRetry(delivery, error.message);
 */
export class OutboundFailed extends Error {
  override readonly name = "OutboundFailed";
  readonly retryable = true;
}
