import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { newSigningKeySet } from "./scripts/jwt-keys.mjs";
import { policiesOff } from "./src/kernel/ratelimit/policies";

/**
 * The bindings every workerd test suite runs with, on top of wrangler.toml's
 * (vitest.config.ts, and vitest.otel.config.ts with tracing on). D1
 * migrations are read here (Node side) and applied by test/setup.ts.
 */
export async function testBindings(): Promise<Record<string, unknown>> {
  return {
    ENVIRONMENT: "test",
    LOG_LEVEL: "warn",
    GIT_COMMIT: "test-commit",
    // Fresh secrets for every run: tests never depend on a fixed key.
    PLATFORM_ROOT_KEY: randomBytes(32).toString("base64url"),
    JWT_SIGNING_KEYS: newSigningKeySet(),
    // Envelope encryption's master key (webhook signing secrets are sealed with it).
    ENCRYPTION_KEYS: JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]),
    TEST_MIGRATIONS: await readD1Migrations("./migrations"),
    // The suite sends thousands of requests from one principal and one (unknown) address:
    // every policy off (no limiter state shared between tests). Rate-limit tests name their own through testApp.
    RATE_LIMITS: JSON.stringify(policiesOff()),
  };
}

/**
 * wrangler.toml as the test pool reads it: a copy in `.wrangler/vitest/` (git-ignored) with its
 * paths made absolute, returned as that copy's path. wrangler loads the `.dev.vars` next to the
 * config it is given, and the pool passes it no other env file, so with the real wrangler.toml a
 * developer's `.dev.vars` reached every test (a METRICS_TOKEN set there for `npm start` failed the
 * metrics tests); next to the copy there is none. The tests' own values are in testBindings().
 */
export function testWranglerConfig(source = "wrangler.toml"): string {
  const from = resolve(source);
  const text = readFileSync(from, "utf8").replace(
    /^(\s*(?:main|migrations_dir)\s*=\s*)"([^"]+)"/gm,
    (_, key: string, path: string) => `${key}${JSON.stringify(resolve(dirname(from), path))}`,
  );
  const copy = join(dirname(from), ".wrangler", "vitest", "wrangler.toml");
  mkdirSync(dirname(copy), { recursive: true });
  // Written aside and renamed into place: test workers run at once, and one reading the file while
  // another rewrote it in place could see it empty.
  const aside = `${copy}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(aside, text);
  renameSync(aside, copy);
  return copy;
}

/**
 * Test files that need workerd to restart objects (`abortAllDurableObjects()`,
 * which skips pinned ones): each runs in a workerd of its own, with
 * wrangler.toml's objects as deployed (vitest.config.ts, "workerd-isolated").
 * test/node/suite-config.test.ts fails if a file that restarts objects is not here.
 */
export const NEEDS_EVICTION = ["test/webhooks/endpoints.test.ts"];

/**
 * Test files run in a workerd of their own, as NEEDS_EVICTION's are, for what they leave behind:
 * the OpenAPI walk sends thousands of requests with made-up ids, each of which may start a
 * Durable Object, and in the shared run every object stays pinned in memory to its end. A
 * clean-clone CI run after the walk joined the shared run failed later files with SQLite's
 * `out of memory: SQLITE_NOMEM` and hung (its rerun passed).
 * (That was the SQLite heap cap TEST_WORKERD_AUTOGATES now raises; the walk stays apart, as its
 * objects would still count against the worker's open files.)
 */
export const OWN_WORKERD = ["test/gateway/input-fuzz.test.ts"];

/**
 * The workerd autogates every test run's workerd starts with (scripts/patch-deps.mjs passes
 * PLINTH_WORKERD_AUTOGATES into the config Miniflare builds). One:
 *
 * `increase-sqlite-hard-heap-limit`: the pinned workerd caps SQLite's heap for its whole process
 * at 512 MiB, and each open SQLite object holds ~160 KB of it (measured here: a fresh workerd
 * opened 3,364 bare objects, or 2,986 AuditLogs, before every SQLite call failed with
 * `SQLITE_NOMEM`). Objects stay open to the run's end (pinnedDurableObjects, below), so the cap
 * bounded the files one test worker can run: the whole shared project in one worker failed past
 * ~190 of its ~245 files, and the OpenAPI walk was moved to a workerd of its own for it. With the
 * gate the cap is 8 GiB and the next bound is the process's open files (three per object: 6,637
 * bare objects under this machine's 20,000); in a full run here each of the two workers ended
 * with ~1,250 objects open (~3,700 open files, ~125 files run). workerd from v1.20260625 builds
 * local objects' databases with no cap (a41f54f76: the server passes none); drop this then.
 */
export const TEST_WORKERD_AUTOGATES = ["workerd-autogate-increase-sqlite-hard-heap-limit"];

/** Sets TEST_WORKERD_AUTOGATES for the workerd processes this vitest process starts. */
export function useTestWorkerdAutogates(): void {
  process.env.PLINTH_WORKERD_AUTOGATES = TEST_WORKERD_AUTOGATES.join(",");
}

/** A Durable Object binding as Miniflare takes it, with the one option added here. */
type PinnedObject = { className: string; unsafePreventEviction: true } & Record<string, unknown>;

/**
 * wrangler.toml's Durable Objects (and `extra`), each kept in memory for the
 * whole run: workerd's `preventEviction`, which wrangler.toml cannot say.
 *
 * Why: when one workerd serves a long run (vitest.config.ts, `isolate: false`),
 * workerd 2026-04-26 crashed (SIGSEGV) in 2 of 3 runs here: both symbolized
 * stacks are `ActorContainer::startRequest` resuming on a container that its
 * namespace's `cleanupLoop` had freed (objects idle for 70 s are evicted). The
 * likely path is an alarm's request, which holds no reference to the container
 * while it starts; every writer sets a safety-net alarm 30 s after a commit
 * (src/kernel/outbox/drain.ts), so a run past ~70 s fires thousands of alarms
 * at idle objects. Upstream added those references in workerd aa1cfd444
 * (2026-05-20, releases from v1.20260619), which the Miniflare that runs on
 * Node 20 does not ship. An object that is never evicted is never freed: no
 * crash in 10 shared runs since.
 * It also makes `abortAllDurableObjects()` skip these objects: a test that
 * needs it runs in the isolated project.
 */
export async function pinnedDurableObjects(
  configPath: string,
  extra: Record<string, { className: string } & Record<string, unknown>> = {},
): Promise<Record<string, PinnedObject>> {
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
  const bound = Object.entries(workerOptions.durableObjects ?? {});
  // A test-only object sharing a module's binding or class would stand in for it in every test
  // (test/worker.ts's export replaces the class src/index.ts exports under that name).
  const boundClasses = new Set(bound.map(([, d]) => (typeof d === "string" ? d : isObject(d) ? d.className : d)));
  for (const [binding, { className }] of Object.entries(extra)) {
    if (bound.some(([name]) => name === binding))
      throw new Error(`test-only Durable Object binding ${binding} is also bound in wrangler.toml: rename the test's`);
    if (boundClasses.has(className))
      throw new Error(
        `test-only Durable Object class ${className} (${binding}) is also bound in wrangler.toml: rename the test's`,
      );
  }
  const declared: [string, unknown][] = [...bound, ...Object.entries(extra)];
  const pinned: Record<string, PinnedObject> = {};
  for (const [binding, designator] of declared) {
    if (typeof designator === "string") pinned[binding] = { className: designator, unsafePreventEviction: true };
    else if (isObject(designator) && typeof designator.className === "string")
      pinned[binding] = { ...designator, className: designator.className, unsafePreventEviction: true };
    else throw new Error(`Durable Object binding ${binding}: no class name`);
  }
  return pinned;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
