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
  /**
   * The runtime's fetch itself failed, before any answer: the connection could not be
   * opened, or broke while the request was written or its answer awaited. Not a DNS
   * failure, a timeout, a cancellation, nor a body that broke off after the answer began.
   * workerd throws the same "Network connection lost." for a refused connection and for a
   * kept-alive one the receiver closed just as the request went out, so the two are one here.
   */
  readonly noAnswer: boolean;

  constructor(message: string, options?: ErrorOptions & { noAnswer?: boolean }) {
    super(message, options);
    this.noAnswer = options?.noAnswer ?? false;
  }
}
