import { DurableObject } from "cloudflare:workers";

/**
 * A test-only Durable Object whose class has no `ping` (test/worker.ts exports it;
 * vitest.config.ts binds it as NO_PING): what a module's object looks like when its
 * contract left out PingRpc, so `/readyz` must say how to fix it.
 */
export class NoPingObject extends DurableObject<Env> {
  hello(): string {
    return "hello";
  }
}
