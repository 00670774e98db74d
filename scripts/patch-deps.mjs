#!/usr/bin/env node
// npm's postinstall: fixes known bugs in pinned dependencies that their fixed
// releases cannot reach on Node 20 (TOOLCHAIN.md). Each fix names its upstream
// issue, applies only to the exact text it replaces, and is idempotent. It never
// fails an install: text it does not recognise (a changed package) is left as is,
// with a line saying so, and test/node/deps-patch.test.ts then fails loudly.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The fixes, by file. `before` is the text as the pinned release ships it;
 * `after` is what it becomes.
 */
export const FIXES = [
  {
    // workers-sdk #15092 (fixed upstream by #15106, in releases that need Node 22): the
    // wrapper class of the Worker's entrypoints and Durable Objects wrapped its own
    // prototype in one more Proxy at every construction, so each property read walked
    // one trap per object or request constructed before it. Requests through SELF
    // slowed from ~2 ms to ~200 ms over a test file's life, and the suite ran 3x slower.
    // The fix installs the Proxy on the first construction only (workerd introspects
    // the prototype before that, so it cannot move to class creation).
    name: "vitest-pool-workers: one prototype Proxy per wrapper class (workers-sdk #15092)",
    file: "node_modules/@cloudflare/vitest-pool-workers/dist/worker/lib/cloudflare/test-internal.mjs",
    before: `function createProxyPrototypeClass(superClass, getUnknownPrototypeKey) {
	function Class(...args) {
		Class.prototype = new Proxy(Class.prototype, { get(target, key, receiver) {
			const value = Reflect.get(target, key, receiver);
			if (value !== void 0) return value;
			if (typeof key === "symbol" || IGNORED_KEYS.includes(key)) return;
			return getUnknownPrototypeKey.call(receiver, key);
		} });
		return Reflect.construct(superClass, args, Class);`,
    after: `function createProxyPrototypeClass(superClass, getUnknownPrototypeKey) {
	let prototypeProxied = false; // plinth scripts/patch-deps.mjs: workers-sdk #15092
	function Class(...args) {
		if (!prototypeProxied) Class.prototype = new Proxy(Class.prototype, { get(target, key, receiver) {
			const value = Reflect.get(target, key, receiver);
			if (value !== void 0) return value;
			if (typeof key === "symbol" || IGNORED_KEYS.includes(key)) return;
			return getUnknownPrototypeKey.call(receiver, key);
		} });
		prototypeProxied = true;
		return Reflect.construct(superClass, args, Class);`,
  },
  {
    // Not a bug fix: a way in for a setting Miniflare cannot pass. workerd (as pinned, v1.20260426)
    // caps SQLite's heap for the whole process at 512 MiB unless its config enables the autogate
    // `increase-sqlite-hard-heap-limit` (8 GiB); releases from v1.20260625 take the cap as a setting
    // that local workerd leaves unlimited (workerd a41f54f76). Each open SQLite Durable Object holds
    // ~160 KB of that heap (a bare object: ~3,360 open, then every SQLite call fails with
    // SQLITE_NOMEM). Production spreads objects over processes and evicts idle ones; the test run
    // keeps every object of a worker's files open to its end (vitest.bindings.ts says why), so the
    // cap, not the machine, bounded how many files one test worker could run. Miniflare builds
    // workerd's config without an `autogates` field; this adds the gates named in
    // PLINTH_WORKERD_AUTOGATES (comma-separated), set only by the vitest configs. Unset (`npm start`,
    // the bench, wrangler), the config is as shipped.
    name: "miniflare: workerd autogates from PLINTH_WORKERD_AUTOGATES (the test run's SQLite heap cap)",
    file: "node_modules/miniflare/dist/src/index.js",
    before: `      extensions,
      structuredLogging: this.#structuredWorkerdLogs
    };`,
    after: `      extensions,
      structuredLogging: this.#structuredWorkerdLogs,
      // plinth scripts/patch-deps.mjs: workerd autogates for the test run
      ...(process.env.PLINTH_WORKERD_AUTOGATES ? { autogates: process.env.PLINTH_WORKERD_AUTOGATES.split(",") } : {})
    };`,
  },
  {
    // A lost wake-up in vitest's runner (as pinned, @vitest/runner 4.1.12; not reported upstream
    // from here, no network): task updates (a test began, a test ended) leave a test worker through
    // a 100 ms throttle whose trailing timer stays in \`pendingCall\` after it fires. When it fires
    // with \`Date.now()\` exactly 100 ms past the last send (a call made in the same millisecond as
    // that send), the call it makes is throttled again, finds the spent timer and schedules none:
    // the updates wait for the next one, and a test that then hangs is never reported as begun.
    // So npm test's account of a hang (scripts/lib/stalled-tests.mjs) could miss the very test it
    // hung in, and test/node/stalled-tests.test.ts failed (once in a CI run, once in 23 runs on a
    // loaded machine), waiting for a begun test vitest never heard of. The timer now forgets itself first.
    name: "@vitest/runner: the task-update throttle's trailing timer forgets itself (lost updates)",
    file: "node_modules/@vitest/runner/dist/chunk-artifact.js",
    before: `		// Make sure fn is still called even if there are no further calls
		pendingCall ??= setTimeout(() => call.bind(this)(...args), ms);`,
    after: `		// Make sure fn is still called even if there are no further calls
		// plinth scripts/patch-deps.mjs: the spent timer must not stand in for a new one (lost updates)
		pendingCall ??= setTimeout(() => { pendingCall = undefined; call.bind(this)(...args); }, ms);`,
  },
  {
    // A lost message, and a test worker that waited on its answer for ever (workers-sdk #15498, a
    // stall between two files, is open; not reported from here, no network). A Durable Object left
    // logging past its test file's end (an object's metrics flush retried in the background) has a
    // console RPC call pending when vitest closes the file's RPC; vitest rejects the call, and the
    // rejection, unhandled in the object's context, is sent to the pool as `onUnhandledError`. The
    // pool's worker cannot send from an object's context, so it sends through the runner object
    // (runInRunnerObject), which fails from there too ("Cannot perform I/O on behalf of a different
    // Durable Object", I/O type SpanParent) and dropped the message after printing "Error sending to
    // pool inside runner". vitest's RPC calls wait without a limit, and the test worker waits for all
    // of them (rpcDone) before it says a file ended: the next file on that worker never ended, the
    // other worker ran every file left, and the run hung after its last with no summary (seed 6464,
    // 12-07 16:13: all 334 files passed, then 8 minutes idle). Such a message is now kept and sent
    // from the runner's own context, before its next message either way: the run ends, and reports
    // the rejection vitest meant to report. test/node/pool-lost-message.test.ts runs it.
    name: "vitest-pool-workers: a message to the pool no context could send is sent later, not dropped (a hung run)",
    file: "node_modules/@cloudflare/vitest-pool-workers/dist/worker/index.mjs",
    before: `		poolSocket.accept();
		init({
			post: (response) => {
				try {
					poolSocket.send(structuredSerializableStringify(response));
				} catch (error) {
					if (isDifferentIOContextError(error)) registerHandlerAndGlobalWaitUntil(runInRunnerObject(() => {
						poolSocket.send(structuredSerializableStringify(response));
					}).catch((e) => {
						__console.error("Error sending to pool inside runner:", e, response);
					}));
					else __console.error("Error sending to pool:", error, response);
				}
			},
			on: (callback) => {
				poolSocket.addEventListener("message", (m) => {
					callback(structuredSerializableParse(m.data));
				});
			},`,
    after: `		poolSocket.accept();
		// plinth scripts/patch-deps.mjs: messages no context could send, sent from the runner's next (lost messages)
		const unsent = [];
		const sendUnsent = () => {
			while (unsent.length > 0) {
				poolSocket.send(unsent[0]);
				unsent.shift();
			}
		};
		init({
			post: (response) => {
				try {
					sendUnsent();
					poolSocket.send(structuredSerializableStringify(response));
				} catch (error) {
					if (isDifferentIOContextError(error)) registerHandlerAndGlobalWaitUntil(runInRunnerObject(() => {
						sendUnsent();
						poolSocket.send(structuredSerializableStringify(response));
					}).catch((e) => {
						if (isDifferentIOContextError(e)) unsent.push(structuredSerializableStringify(response));
						else __console.error("Error sending to pool inside runner:", e, response);
					}));
					else __console.error("Error sending to pool:", error, response);
				}
			},
			on: (callback) => {
				poolSocket.addEventListener("message", (m) => {
					try {
						sendUnsent();
					} catch (error) {
						__console.error("Error sending to pool:", error);
					}
					callback(structuredSerializableParse(m.data));
				});
			},`,
  },
];

/** Applies every fix; returns what happened to each. */
export function applyFixes(base = root) {
  return FIXES.map((fix) => {
    const path = join(base, fix.file);
    if (!existsSync(path)) return { fix, state: "absent" };
    const text = readFileSync(path, "utf8");
    if (text.includes(fix.after)) return { fix, state: "applied already" };
    if (!text.includes(fix.before)) return { fix, state: "not recognised" };
    writeFileSync(path, text.replace(fix.before, fix.after));
    return { fix, state: "applied" };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const { fix, state } of applyFixes()) {
    if (state === "applied") console.log(`patch-deps: ${fix.name}: applied`);
    else if (state !== "applied already") console.log(`patch-deps: ${fix.name}: ${state}, left as is`);
  }
}
