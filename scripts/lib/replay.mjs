// `plinth events replay`: drives POST /api/v1/platform/events/replay page by
// page and prints a progress line after each page.
import { CliError, call } from "./remote.mjs";

/**
 * @param {{ client: import("openapi-fetch").Client<import("../../src/generated/api").paths>, url: string,
 *   consumer: string, tenant?: string, rebuild: boolean, limit: number, maxEvents?: number, after?: string,
 *   print?: (line: string) => void, warn?: (line: string) => void,
 *   onCall?: (answer: { streams: number, events: number, applied: number }) => void }} options
 *   `onCall` hears each call's answer (the bench keeps the most events one call read); `warn`
 *   hears, once, the event types the replay cannot read (stderr by default).
 * @returns {Promise<{ streams: number, events: number, applied: number, calls: number }>}
 */
export async function replay({
  client,
  url,
  consumer,
  tenant,
  rebuild,
  limit,
  maxEvents,
  after: from,
  print = console.log,
  warn = console.error,
  onCall,
}) {
  const total = { streams: 0, events: 0, applied: 0, calls: 0 };
  const started = performance.now();
  /** @type {string | undefined} */
  let after = from;
  for (;;) {
    let body;
    try {
      body = await call(
        url,
        client.POST("/api/v1/platform/events/replay", {
          body: { consumer, tenant_id: tenant, after, limit, max_events: maxEvents, rebuild },
        }),
      );
    } catch (error) {
      // Every call before this one is applied and recorded: say where to go on from. Before
      // any call of this run succeeded there is nothing to add (an --after refused is the user's own).
      if (!(error instanceof CliError) || after === undefined || total.calls === 0) throw error;
      throw new CliError(`${error.message}\nresume with --after ${JSON.stringify(after)}`, error.exitCode);
    }
    onCall?.(body);
    if (total.calls === 0 && body.unreadable.length > 0) {
      // Said once, before the counts, so nobody reads "done" as "everything".
      warn(`${consumer}: not replayed, their writers keep no event log: ${body.unreadable.join(", ")}`);
    }
    total.calls++;
    total.streams += body.streams;
    total.events += body.events;
    total.applied += body.applied;
    const seconds = (performance.now() - started) / 1000;
    print(
      `${consumer}: ${total.streams} streams, ${total.events} events read, ${total.applied} applied` +
        ` (${Math.round(total.events / Math.max(seconds, 0.001))} events/s)${body.next ? ` … after ${body.next}` : ", done"}`,
    );
    if (!body.next) return total;
    after = body.next;
  }
}
