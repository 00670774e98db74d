import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll } from "vitest";
import { internetDnsQueries, watchInternetDns } from "./internet-dns-guard";
import { rejectedObjectWaitUntils, rejectedWorkerWaitUntils, watchWaitUntil } from "./wait-until-guard";

// Idempotent: applies what is not yet applied in this test file's storage.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// No test file may ask a public DNS resolver anything (test/internet-dns-guard.ts says why).
beforeAll(() => {
  watchInternetDns();
});
afterAll(() => {
  const asked = internetDnsQueries();
  if (asked.length > 0) {
    throw new Error(
      `this test file sent ${asked.length} DNS queries to the internet (${[...new Set(asked)].slice(0, 5).join("; ")}): the test Worker's resolver must answer them (test/worker.ts)`,
    );
  }
});

// No `ctx.waitUntil` work may reject, an object's or the Worker's: workerd only prints a line
// (test/wait-until-guard.ts says why).
beforeAll(async () => {
  await watchWaitUntil();
});
afterAll(async () => {
  const objects = await rejectedObjectWaitUntils();
  const worker = rejectedWorkerWaitUntils();
  const seen = [
    ...(objects.length > 0 ? [`${objects.length} Durable Object waitUntil promises`] : []),
    ...(worker.length > 0 ? [`${worker.length} Worker (request, queue batch, cron) waitUntil promises`] : []),
  ];
  if (seen.length > 0) {
    throw new Error(
      `${seen.join(" and ")} rejected while this test file ran (an earlier file's work may have started one): ${[...objects, ...worker].slice(0, 5).join("; ")}. Work handed to waitUntil must catch and log its own failures`,
    );
  }
});
