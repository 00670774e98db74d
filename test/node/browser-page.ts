// What the browser tests share: Chromium launched headless, a page that runs one async
// function and writes what it returned (or threw) into #out, and reading that result back.
// Needs Debian's Chromium (`apt-get install chromium`; .ci/run installs it).
import { existsSync } from "node:fs";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { expect } from "vitest";

const CHROMIUM = "/usr/bin/chromium"; // scripts/lib/debian-tools.mjs installs it

/** Headless Chromium, or a failure that says how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
}

/** A page that runs `run` (the source of an async function) and writes what it returned, or threw, into #out. */
export const page = (run: string) => `<!doctype html><meta charset="utf-8"><title>client</title>
<pre id="out">pending</pre>
<script>
  const out = (value) => { document.getElementById("out").textContent = JSON.stringify(value); };
  (${run})().then(out, (e) => out({ error: String(e) }));
</script>`;

/**
 * Opens `url` in a new tab and returns what its page wrote into #out. `prepare` runs on the tab
 * before it loads (e.g. `exposeFunction`, to hand the page something only the test has).
 */
export async function resultFrom(
  browser: Browser,
  url: string,
  prepare?: (tab: Page) => Promise<void>,
  timeout = 20_000,
): Promise<Record<string, unknown>> {
  const tab = await browser.newPage();
  try {
    await prepare?.(tab);
    await tab.goto(url);
    // Evaluated in the page, as source text: this file is compiled without the DOM's types.
    await tab.waitForFunction('document.getElementById("out").textContent !== "pending"', { timeout });
    const text = await tab.evaluate('document.getElementById("out").textContent');
    return JSON.parse(String(text)) as Record<string, unknown>;
  } finally {
    await tab.close();
  }
}

/** A served Worker as the browser tests reach it: its origin and root key (test/node/proxy/worker.ts). */
interface Served {
  origin: string;
  rootKey: string;
}

/** Creates a tenant on the served Worker with the root key, as an operator would; answers its admin key. */
export async function servedTenant(worker: Served, slug: string, name: string): Promise<string> {
  const created = await fetch(`${worker.origin}/api/v1/platform/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${worker.rootKey}`, "content-type": "application/json" },
    body: JSON.stringify({ slug, name }),
  });
  expect(created.status).toBe(201);
  return String(((await created.json()) as { admin_key: string }).admin_key);
}

/** Sets a tenant's `cors_origins` with its admin key, as its administrator would with curl (no Origin). */
export async function allowOrigins(worker: Served, adminKey: string, origins: string[]): Promise<void> {
  const set = await fetch(`${worker.origin}/api/v1/admin/settings`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ cors_origins: origins }),
  });
  expect(set.status).toBe(200);
}
