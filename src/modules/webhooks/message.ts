import type { Envelope } from "../../kernel/events/envelope";
import type { Origin } from "../../kernel/events/origin";
import type { EventReadRules } from "../../kernel/modules/event-read";
import type { OutgoingMessage } from "./contract";
import { type Endpoint, receives } from "./endpoints-table";
import { checkedFor } from "./reads";

/**
 * The JSON body a receiver gets for an event: the envelope as subscribers
 * see it, less what is internal to the platform (the client's IP hash, the
 * audit facts, the trace context), plus `timestamp`, the same instant as
 * `occurred_at`: Standard Webhooks' recommended payload is `type`,
 * `timestamp` and `data`, and receivers built on its tooling look for it.
 *
 * @example
 * messageBody(event); // '{"id":"01J…","type":"blog.post.created","tenant_id":"t_…",…,"timestamp":"…","data":{…}}'
 */
export function messageBody(event: Envelope): string {
  const { ip_hash: _ip, audit: _audit, trace: _trace, data, ...visible } = event;
  return JSON.stringify({ ...visible, timestamp: event.occurred_at, data });
}

/** The type of the test message: sent by the webhooks module itself, never published as an event. */
export const TEST_MESSAGE_TYPE = "webhooks.test";

/** The `webhooks.test` message of "send test event": an envelope like any other, with no stream behind it. */
export function testMessage(tenantId: string, messageId: string, ctx: Origin): OutgoingMessage {
  const event: Envelope = {
    id: messageId,
    type: TEST_MESSAGE_TYPE,
    tenant_id: tenantId,
    stream: `${tenantId}/webhooks/test`,
    version: 1,
    occurred_at: ctx.now,
    actor: ctx.actor,
    request_id: ctx.requestId,
    data: { message: "This is a test event from plinth." },
  };
  return { message_id: messageId, type: event.type, occurred_at: ctx.now, body: messageBody(event) };
}

/** An endpoint whose filters' reads are known: recorded when written, or at its first dispatch since. */
export type CheckedEndpoint = Endpoint & { reads: string[] };

/**
 * A batch of one tenant's events as messages, by the endpoint that receives each (enabled,
 * wanting its type, created before it occurred, and checked for the permission that reads the
 * type under `rules`, the deploy's of now), and how many a filter matched but were held back
 * for want of that check; throws on another tenant's event.
 */
export function fanOut(
  tenantId: string,
  events: readonly Envelope[],
  endpoints: readonly CheckedEndpoint[],
  rules: EventReadRules,
): { byEndpoint: Map<string, { endpoint: Endpoint; messages: OutgoingMessage[] }>; heldBack: number } {
  const byEndpoint = new Map<string, { endpoint: Endpoint; messages: OutgoingMessage[] }>();
  let heldBack = 0;
  for (const event of events) {
    if (event.tenant_id !== tenantId) throw new Error("dispatch: a batch holds one tenant's events");
    for (const endpoint of endpoints) {
      if (!receives(endpoint.view, event)) continue;
      // Not queued, not an error: a type its filters came to match after they were checked.
      if (!checkedFor(endpoint.reads, rules, event.type)) {
        heldBack++;
        continue;
      }
      const entry = byEndpoint.get(endpoint.view.id) ?? { endpoint, messages: [] };
      entry.messages.push({
        message_id: event.id,
        type: event.type,
        occurred_at: event.occurred_at,
        body: messageBody(event),
      });
      byEndpoint.set(endpoint.view.id, entry);
    }
  }
  return { byEndpoint, heldBack };
}
