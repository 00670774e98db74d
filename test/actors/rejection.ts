/**
 * The error an RPC call rejected with. An RPC promise is a thenable whose
 * rejection vitest's `.rejects` leaves unhandled, so it is settled here first.
 */
export async function rejection(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
  throw new Error("expected the call to reject");
}
