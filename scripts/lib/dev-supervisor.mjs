// Keeps `npm start` alive across a Worker that fails to load. wrangler dev exits when the
// rebuilt Worker throws at module load (a typo in a new module, a route reading a missing
// binding): the terminal was left at a shell prompt, and a product team had to notice and
// run npm start again. Once the Worker has been up, a failed wrangler is started again at
// the next change to the sources instead, with the error left on screen above.

/**
 * @typedef {{ on(event: "exit", listener: (code: number | null, signal: string | null) => void): unknown, kill(signal?: string): unknown }} Child
 * @typedef {{
 *   start: () => Child,
 *   watch: (onChange: () => void) => () => void,
 *   log: (line: string) => void,
 *   exit: (code: number) => void,
 *   settle?: (startedAt: number) => Promise<boolean>,
 * }} Ports
 *   `settle`: asked at a failure, with when that wrangler dev started (ms since the epoch):
 *   whether it stopped because wrangler.toml was being written under it, and the file now
 *   reads whole (see wranglerTomlSettled in dev-settle.mjs); if so, it is started again at once.
 */

/**
 * Runs `start()`'s child under supervision. Before {@link up} is called an exit ends
 * everything with its code (the Worker never came up: the caller's health check says
 * why); after it, an exit with a failure waits for `watch` to report a change, then
 * starts a new child. A clean exit (0) or a {@link stop} ends everything.
 * @param {Ports} ports
 */
export function superviseDev(ports) {
  let child = ports.start();
  let wasUp = false;
  let stopping = false;
  let restarting = false;
  let exited = false;
  let unwatch = null;
  let startedAt = Date.now();
  // npm start rewrote a file the Worker imports while this child ran or started (permissions.ts
  // after a manifest's save): a failure may be of the files as they were, so it is tried once more.
  let rewrittenUnder = false;

  const startAgain = () => {
    exited = false;
    rewrittenUnder = false;
    startedAt = Date.now();
    child = ports.start();
    follow(child);
  };
  const follow = (c) => {
    c.on("exit", (code, signal) => {
      if (c !== child) return;
      exited = true;
      if (restarting && !stopping) {
        restarting = false;
        startAgain();
        return;
      }
      const failed = code !== 0 && code !== null;
      if (stopping || !wasUp || !failed) {
        ports.exit(code ?? (signal ? 0 : 1));
        return;
      }
      if (rewrittenUnder) {
        ports.log("plinth: wrangler dev stopped as src/generated/ was rewritten under it; starting it again…");
        startAgain();
        return;
      }
      unwatch = ports.watch(() => {
        unwatch?.();
        unwatch = null;
        if (stopping) return;
        ports.log("plinth: a change; starting wrangler dev again…");
        startAgain();
      });
      const waiting = unwatch;
      const stillWaiting = () => !stopping && unwatch === waiting && c === child;
      const fixIt = () =>
        ports.log(
          `plinth: wrangler dev stopped (exit ${code}); the error is above. Fix it and save: plinth starts it again at the next change in src/, durable-objects/, wasm/ or wrangler.toml. Ctrl-C stops.`,
        );
      if (!ports.settle) {
        fixIt();
        return;
      }
      // `cp other.toml wrangler.toml` truncates, then writes: wrangler dev may read the empty
      // or half-written file and exit once the whole one is there, so no change comes after.
      // Asked first, so that "fix it" is not said of a file that needs no fixing.
      ports.settle(startedAt).then(
        (raced) => {
          if (!stillWaiting()) return;
          if (!raced) {
            fixIt();
            return;
          }
          unwatch?.();
          unwatch = null;
          ports.log(
            "plinth: wrangler dev stopped as wrangler.toml was being written (it read the file empty or half); it now reads whole: starting wrangler dev again…",
          );
          startAgain();
        },
        () => {
          if (stillWaiting()) fixIt();
        },
      );
    });
  };
  follow(child);

  return {
    /** The Worker answered: from now on a failed wrangler is restarted at the next change. */
    up() {
      wasUp = true;
    },
    /** Whether the current child has exited (a health check stops waiting then). */
    get exited() {
      return exited;
    },
    /**
     * Starts wrangler dev again (it reads `.dev.vars` only when it starts): the running child
     * is stopped with SIGINT and a new one started when it has exited; while waiting after a
     * failure, a new one starts at once.
     */
    restart() {
      if (stopping || restarting) return;
      if (unwatch) {
        unwatch();
        unwatch = null;
        startAgain();
        return;
      }
      restarting = true;
      child.kill("SIGINT");
    },
    /**
     * npm start rewrote a generated source the Worker imports: if the running (or starting)
     * wrangler dev then fails, it may have built with the old file, and is started again at
     * once. While waiting after a failure, the rewrite is a change the watch reports itself.
     */
    rewrote() {
      if (!exited) rewrittenUnder = true;
    },
    /** Stops the child with `signal` and ends with its exit; ends at once when no child runs. */
    stop(signal) {
      stopping = true;
      if (unwatch) {
        unwatch();
        unwatch = null;
        ports.exit(0);
        return;
      }
      child.kill(signal);
    },
  };
}
