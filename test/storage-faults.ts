import { runInDurableObject } from "cloudflare:test";

/**
 * Makes `object`'s next `transactionSync` fail as a full disk would, after its writes ran, so
 * they roll back; the one after it runs as usual. For tests of what an object keeps in memory,
 * logs or counts when a transaction does not commit.
 */
export function failNextTransaction(object: DurableObjectStub): Promise<void> {
  return runInDurableObject(object, (_, state) => {
    const real = state.storage.transactionSync.bind(state.storage);
    state.storage.transactionSync = <T>(fn: () => T): T => {
      state.storage.transactionSync = real;
      return real(() => {
        fn();
        throw new Error("SQLITE_FULL: database or disk is full");
      });
    };
  });
}
