/**
 * Watches a promise without awaiting it, so a test can advance fake time and
 * then ask whether it has settled, and how.
 *
 * @example
 * const waiting = track(bulkhead.acquire());
 * await time.advance(1_000);
 * expect(waiting.error).toBeInstanceOf(BulkheadTimeoutError);
 */
export function track<T>(p: Promise<T>) {
  const s = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  void p.then(
    (value) => {
      s.settled = true;
      s.value = value;
    },
    (error: unknown) => {
      s.settled = true;
      s.error = error;
    },
  );
  return s;
}
