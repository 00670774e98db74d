// The Worker cannot read wrangler.toml, so kernel/notify/late-mail.ts states the mail queues'
// max_retries itself: how long a deleted recipient's late mail is refused follows from them.
// A wrangler.toml that allows more retries than the code knows would let that mail outlive it.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import { MAIL_DLQ_MAX_RETRIES, MAIL_QUEUE_MAX_RETRIES } from "../../src/kernel/notify/late-mail";

const config = join(import.meta.dirname, "..", "..", "wrangler.toml");

describe("the mail queues' retries in wrangler.toml", () => {
  const envs = [undefined, ...Object.keys(experimental_readRawConfig({ config }).rawConfig.env ?? {})];

  it.each(envs.map((name) => [name ?? "(top level)", name]))(
    "%s: the mail queue and its dead-letter queue retry as late-mail.ts says",
    (_, name) => {
      const consumers: { queue: string; max_retries?: number }[] =
        unstable_readConfig({ config, env: name }).queues.consumers ?? [];
      const mail = consumers.filter((c) => /-mail$/.test(c.queue));
      const dlq = consumers.filter((c) => /-mail-dlq$/.test(c.queue));
      expect(mail.map((c) => c.max_retries)).toEqual([MAIL_QUEUE_MAX_RETRIES]);
      expect(dlq.map((c) => c.max_retries)).toEqual([MAIL_DLQ_MAX_RETRIES]);
    },
  );
});
