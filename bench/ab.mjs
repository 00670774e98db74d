/**
 * `npm run bench:ab -- <dir A> <dir B> [one,hundred,me] [rounds] [seconds]`: the write
 * scenarios (and, with `me`, the API-key read `GET /api/v1/me`, the gateway's hot path) of two
 * checkouts of plinth, A/B. Builds each (a git worktree of the commit to
 * compare with is the usual A), serves both as the bench does (Miniflare, in-memory storage),
 * then alternates their loads, `rounds` times each (3), for `seconds` (6), flipping the order
 * every round so drift hits both alike, and prints each side's req/s and the median ratio,
 * and how many outbox sends each side's local queue refused. `AB_CONNECTIONS` (10) sets
 * the load's connections.
 *
 *   git worktree add ../plinth-base HEAD~1 && cp -al node_modules ../plinth-base/
 *   npm run bench:ab -- ../plinth-base . one,hundred
 *
 * For deciding whether a change to the write path helps: on 2 shared cores one 6 s run
 * varies by ±15%, and the alternation cancels most of the drift. Not a report: `npm run
 * bench` measures everything against its baselines and writes bench/REPORT.md.
 */
import path from "node:path";
import { buildWorker } from "./lib/build.mjs";
import { plinthFixtures } from "./lib/fixtures.mjs";
import { load } from "./lib/load.mjs";
import { PLINTH_CONFIG, ROOT_KEY } from "./lib/plinth-config.mjs";
import { drainFailures } from "./lib/projection.mjs";
import { median } from "./lib/report.mjs";
import { applyMigrations, startWorker, stopAll } from "./lib/serve.mjs";

const [dirA, dirB, list = "one,hundred", roundsArg = "3", secondsArg = "6"] = process.argv.slice(2);
if (!dirA || !dirB) {
  console.error("usage: node bench/ab.mjs <dir A> <dir B> [one,hundred,me] [rounds] [seconds]");
  process.exit(2);
}
const sides = { A: path.resolve(dirA), B: path.resolve(dirB) };
const NAMES = { one: "one aggregate", hundred: "100 aggregates", me: "GET /api/v1/me (API key)" };
const which = list.split(",").filter((w) => w in NAMES);
const rounds = Math.max(1, Number(roundsArg));
const seconds = Math.max(1, Number(secondsArg));
const connections = Math.max(1, Number(process.env.AB_CONNECTIONS ?? 10));
const fixtures = plinthFixtures({
  rootKey: ROOT_KEY,
  slug: "bench",
  email: "bench@example.com",
  password: "bench-password-0123456789",
});

async function main() {
  /** @type {Map<string, Parameters<typeof load>[0]>} */
  const requests = new Map();
  /** Each side's Worker log, for the outbox sends its local queue refused. */
  const logsOf = new Map();
  for (const [side, root] of Object.entries(sides)) {
    const scriptPath = await buildWorker({
      root,
      main: path.join(root, "src", "index.ts"),
      outdir: path.join(sides.B, "bench", ".tmp", `ab-${side}`),
    });
    const { mf, url, logs } = await startWorker({ ...PLINTH_CONFIG, scriptPath });
    logsOf.set(side, logs);
    await applyMigrations(mf, "DB", path.join(root, "migrations"));
    for (const w of which) {
      if (w === "me") {
        const { headers } = await fixtures.apiKeyAuth(url.origin);
        const request = { url: new URL("/api/v1/me", url.origin).href, headers, connections, duration: seconds };
        requests.set(`${side}:${w}`, request);
        await load({ ...request, duration: 2 }); // warm-up
        continue;
      }
      const p = await fixtures.writes(`${side}-${w}`, w === "one" ? 1 : 100)(url.origin);
      const request = {
        url: new URL(p.paths[0] ?? "/", url.origin).href,
        method: "PATCH",
        headers: p.headers,
        next: p.next,
        connections,
        duration: seconds,
      };
      requests.set(`${side}:${w}`, request);
      await load({ ...request, duration: 2 }); // warm-up
    }
  }
  /** @type {Map<string, number[]>} */
  const rps = new Map();
  for (let r = 0; r < rounds; r++) {
    for (const w of which) {
      for (const side of r % 2 === 0 ? ["A", "B"] : ["B", "A"]) {
        const key = `${side}:${w}`;
        const result = await load(/** @type {Parameters<typeof load>[0]} */ (requests.get(key)));
        if (result.non2xx || result.errors) console.log(`${key}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        rps.set(key, [...(rps.get(key) ?? []), result.rps]);
      }
    }
  }
  for (const w of which) {
    const a = rps.get(`A:${w}`) ?? [];
    const b = rps.get(`B:${w}`) ?? [];
    const show = (/** @type {number[]} */ xs) => xs.map((x) => x.toFixed(0)).join(", ");
    console.log(
      `${NAMES[/** @type {keyof typeof NAMES} */ (w)]}: A ${show(a)} (median ${median(a).toFixed(0)}) | B ${show(b)} (median ${median(b).toFixed(0)}) | B/A ${(median(b) / median(a)).toFixed(2)}`,
    );
  }
  const refused = (/** @type {string} */ side) => drainFailures(logsOf.get(side))?.count ?? 0;
  console.log(`outbox sends refused by the local queue (whole run): A ${refused("A")} | B ${refused("B")}`);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
