// The Worker's own configuration check (src/kernel/config's parseConfig, with the registered
// modules' variables) run over an environment's [vars] before `npm run deploy` touches
// Cloudflare: a value the Worker refuses would otherwise deploy, and then every request answers
// 500 config_invalid. Only what [vars] alone decides is said here; the secrets are not known
// before `wrangler secret list` (and their values never), so they are taken as absent and left
// to secretProblems (deploy-preflight.mjs), as are the variables configProblems words itself.
import { join } from "node:path";
import { SECRET_NAMES } from "./deploy-preflight.mjs";
import { root } from "./env.mjs";
import { importBundled } from "./node-bundle.mjs";

/**
 * The kernel's config parser and the variables the registered modules declare, bundled from
 * src (scripts/lib/node-bundle.mjs).
 * @typedef {{ parseConfig: (env: Record<string, unknown>, needs: { bindings: Record<string, string>, variables: Record<string, unknown>, ratePolicies?: Record<string, unknown> }) => { ok: true } | { ok: false, issues: { variable: string, message: string }[] }, kernelVariables: ReadonlySet<string>, moduleVariables: Record<string, unknown>, moduleRatePolicies: Record<string, unknown> }} ConfigCheck
 */

/** @returns {Promise<ConfigCheck>} */
export async function loadConfigCheck() {
  const out = join(root, "node_modules", ".cache", "plinth-deploy", "config-check.mjs");
  const loaded = await importBundled(out, {
    stdin: {
      contents: [
        'export { parseConfig, KERNEL_VARIABLES } from "./src/kernel/config/index.ts";',
        'export { modules } from "./src/modules/index.ts";',
      ].join("\n"),
      resolveDir: root,
      loader: "ts",
    },
  });
  return {
    parseConfig: loaded.parseConfig,
    kernelVariables: loaded.KERNEL_VARIABLES,
    moduleVariables: Object.assign({}, ...loaded.modules.map((m) => m.variables ?? {})),
    // RATE_LIMITS may name the modules' own policies (ModuleDef.rate_limits), and no others.
    moduleRatePolicies: Object.assign({}, ...loaded.modules.map((m) => m.rate_limits ?? {})),
  };
}

/**
 * Secrets plinth reads: never parsed here (one in [vars] is refused by configProblems, and
 * their presence is checked once the Worker's secrets are listed).
 */
const SECRETS = new Set(SECRET_NAMES);

/**
 * Variables configProblems already checks with messages of their own (ENVIRONMENT must be
 * staging or production; PLATFORM_DOMAIN with its routes; MAIL_API_URL and MAIL_FROM set
 * together): not said twice.
 */
const OWN_CHECKS = new Set(["ENVIRONMENT", "PLATFORM_DOMAIN", "MAIL_API_URL", "MAIL_FROM"]);

/**
 * What the Worker's config check would refuse in `vars` (an environment's resolved [vars],
 * with `injected`: what the deploy adds, `--var GIT_COMMIT:<commit>`), one message each,
 * naming the variable and the rule, never the value. Said: every variable set in [vars] whose
 * value fails, and a kernel variable left unset that a rule across variables then refuses
 * (MAIL_RETRY_MAX_S below a MAIL_RETRY_BASE_S set). Not said: the secrets (taken as absent:
 * the secret check follows), a module's variable left unset (a module may read it from a
 * secret), the bindings (configProblems compares them with the top level's), and the variables
 * of OWN_CHECKS.
 * @param {ConfigCheck} check
 * @param {Record<string, unknown>} vars
 * @param {string} env
 * @param {Record<string, string>} [injected]
 * @returns {string[]}
 */
export function varsProblems(check, vars, env, injected = {}) {
  const given = Object.fromEntries(
    Object.entries({ ...vars, ...injected }).filter(([name, value]) => !SECRETS.has(name) && value !== undefined),
  );
  const result = check.parseConfig(given, {
    bindings: {},
    variables: check.moduleVariables,
    ratePolicies: check.moduleRatePolicies,
  });
  if (result.ok) return [];
  const said = new Set();
  const problems = [];
  for (const { variable, message } of result.issues) {
    if (SECRETS.has(variable) || OWN_CHECKS.has(variable)) continue;
    if (!(variable in given) && !check.kernelVariables.has(variable)) continue;
    const line = `[env.${env}.vars] ${variable}: ${message}; every request would answer 500 config_invalid (docs/configuration.md, "Variables")`;
    if (said.has(line)) continue;
    said.add(line);
    problems.push(line);
  }
  return problems;
}
