import { staticResolver } from "../src/kernel/outbound";

/**
 * A receiver host only the test Worker's resolver knows (a `.test` name: none resolves on
 * the internet). It answers with a private address, which the outbound guard refuses: a
 * delivery to it says which resolver answered without sending anything anywhere
 * (test/kernel/offline-dns.test.ts).
 */
export const TEST_RECEIVER_HOST = "receiver.plinth.test";
export const TEST_RECEIVER_ADDRESS = "10.20.30.40";

/**
 * The DNS of the workerd suite's Worker (test/worker.ts): a fixed map, so no test sends a
 * host it names (hooks.example.com, login.example.com …) to a public resolver. Every other
 * name answers as a name that does not exist would.
 */
export const testResolver = staticResolver({ [TEST_RECEIVER_HOST]: [TEST_RECEIVER_ADDRESS] });
