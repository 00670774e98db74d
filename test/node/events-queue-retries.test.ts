// The Worker cannot read wrangler.toml, so kernel/events/dlq-retries.ts states the events
// dead-letter queue's max_retries itself: from that delivery on, a letter D1 refuses goes back to
// the events queue. A wrangler.toml allowing fewer retries than the code knows would let Queues
// delete such a letter before it is sent back.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import { EVENTS_DLQ_MAX_RETRIES } from "../../src/kernel/events/dlq-retries";

const config = join(import.meta.dirname, "..", "..", "wrangler.toml");

describe("the events dead-letter queue's retries in wrangler.toml", () => {
  const envs = [undefined, ...Object.keys(experimental_readRawConfig({ config }).rawConfig.env ?? {})];

  it.each(envs.map((name) => [name ?? "(top level)", name]))("%s: retries as dlq-retries.ts says", (_, name) => {
    const consumers: { queue: string; max_retries?: number }[] =
      unstable_readConfig({ config, env: name }).queues.consumers ?? [];
    const dlq = consumers.filter((c) => /-events-dlq$/.test(c.queue));
    expect(dlq.map((c) => c.max_retries)).toEqual([EVENTS_DLQ_MAX_RETRIES]);
  });
});
