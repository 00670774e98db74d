// Local development state for `npm start`: secrets in .dev.vars, and the demo
// tenant whose admin key is kept under .wrangler/state (both git-ignored).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { newSigningKeySet } from "../jwt-keys.mjs";
import { root } from "./env.mjs";

const devVarsPath = join(root, ".dev.vars");
const demoPath = join(root, ".wrangler", "state", "plinth-demo.json");

/** Parses KEY=VALUE lines (values optionally single- or double-quoted). */
function parseDotenv(text) {
  const vars = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (/^'.*'$|^".*"$/.test(value)) value = value.slice(1, -1);
    vars[m[1]] = value;
  }
  return vars;
}

/** The variables of .dev.vars, or none when there is no such file. */
export function readDevVars() {
  return existsSync(devVarsPath) ? parseDotenv(readFileSync(devVarsPath, "utf8")) : {};
}

/**
 * Makes sure .dev.vars holds a root key and JWT signing keys, writing fresh
 * ones for whatever is missing. Returns the variables.
 */
export function ensureDevVars() {
  const text = existsSync(devVarsPath) ? readFileSync(devVarsPath, "utf8") : "";
  const vars = parseDotenv(text);
  const added = [];
  if (!vars.PLATFORM_ROOT_KEY) {
    vars.PLATFORM_ROOT_KEY = randomBytes(32).toString("base64url");
    added.push(`PLATFORM_ROOT_KEY=${vars.PLATFORM_ROOT_KEY}`);
  }
  if (!vars.JWT_SIGNING_KEYS) {
    vars.JWT_SIGNING_KEYS = newSigningKeySet();
    added.push(`JWT_SIGNING_KEYS='${vars.JWT_SIGNING_KEYS}'`);
  }
  if (!vars.ENCRYPTION_KEYS) {
    vars.ENCRYPTION_KEYS = JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]);
    added.push(`ENCRYPTION_KEYS='${vars.ENCRYPTION_KEYS}'`);
  }
  if (added.length > 0) {
    const header = text === "" ? "# Local secrets for wrangler dev, written by npm start. Never commit.\n" : "";
    writeFileSync(devVarsPath, `${header}${text}${text && !text.endsWith("\n") ? "\n" : ""}${added.join("\n")}\n`, {
      mode: 0o600,
    });
    console.log(`plinth: wrote ${added.map((a) => a.split("=")[0]).join(", ")} to .dev.vars`);
  }
  return vars;
}

async function call(origin, path, { token, method = "GET", body } = {}) {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/**
 * Makes sure the `demo` tenant exists and returns its admin key: the saved
 * one when it still works, else a newly created tenant's.
 */
export async function ensureDemoTenant(origin, rootKey) {
  if (existsSync(demoPath)) {
    const saved = JSON.parse(readFileSync(demoPath, "utf8"));
    const me = await call(origin, "/api/v1/me", { token: saved.admin_key });
    if (me.status === 200) return saved;
  }
  const created = await call(origin, "/api/v1/platform/tenants", {
    token: rootKey,
    method: "POST",
    body: { slug: "demo", name: "Demo tenant", plan: "free" },
  });
  if (created.status === 409) {
    return {
      error:
        "the demo tenant exists but its admin key is not in .wrangler/state/plinth-demo.json; " +
        "delete .wrangler/state to start from scratch",
    };
  }
  if (created.status !== 201) return { error: `creating the demo tenant answered ${created.status}` };
  const demo = { tenant_id: created.body.id, slug: created.body.slug, admin_key: created.body.admin_key };
  mkdirSync(dirname(demoPath), { recursive: true });
  writeFileSync(demoPath, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  return demo;
}
