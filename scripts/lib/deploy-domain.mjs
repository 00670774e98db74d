// Whether an environment's routes serve its PLATFORM_DOMAIN: the platform API and the tokens'
// issuer (https://<domain>) at the domain itself, each tenant at <slug>.<domain>
// (docs/configuration.md, "Domains"). A route wrangler accepts for another host, or for part
// of the paths, deploys fine and leaves them answering nothing.

/**
 * A lower-case DNS name: the kernel's PLATFORM_DOMAIN rule (src/kernel/config/index.ts; a test
 * holds the two the same). Anything else answers every request 500 config_invalid.
 */
export const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * A route's host, and whether it takes every path of it. A Custom Domain is a host, whole.
 * @param {unknown} route a `routes` entry: a pattern, or `{ pattern, zone_name | zone_id | custom_domain }`
 * @returns {{ host: string, allPaths: boolean } | null}
 */
function routeHost(route) {
  const pattern = typeof route === "string" ? route : route && typeof route === "object" ? route.pattern : undefined;
  if (typeof pattern !== "string") return null;
  const bare = pattern.replace(/^https?:\/\//, "");
  const slash = bare.indexOf("/");
  if (slash < 0) return { host: bare.toLowerCase(), allPaths: true };
  const path = bare.slice(slash);
  return { host: bare.slice(0, slash).toLowerCase(), allPaths: path === "/*" || path === "*" };
}

/** Whether a route host matches `host` (a leading `*` matches any prefix, as Cloudflare's routes do). */
function matches(pattern, host) {
  return pattern.startsWith("*") ? host.endsWith(pattern.slice(1)) : pattern === host;
}

/**
 * @param {{ routes?: unknown[], route?: unknown, vars?: Record<string, unknown> }} config
 * @param {string} env
 * @returns {{ problems: string[], warnings: string[] }}
 */
export function domainChecks(config, env) {
  const routes = [...(config.routes ?? []), ...(config.route === undefined ? [] : [config.route])]
    .map(routeHost)
    .filter((r) => r?.allPaths);
  const domain = config.vars?.PLATFORM_DOMAIN;
  if (typeof domain !== "string" || domain === "") {
    const warnings =
      (config.routes?.length ?? 0) > 0 || config.route !== undefined
        ? [
            `[env.${env}] has routes but no PLATFORM_DOMAIN in [env.${env}.vars]: a tenant's <slug>.<domain> host names no tenant (only its credential or X-Tenant does) and tokens are issued for whichever host was asked (docs/configuration.md, "Domains")`,
          ]
        : [];
    return { problems: [], warnings };
  }
  if (!DNS_NAME.test(domain)) {
    const problem = `[env.${env}.vars] PLATFORM_DOMAIN ${JSON.stringify(domain)} is not a lower-case DNS name (such as example.com, without scheme, path or final dot): every request would answer 500 config_invalid`;
    return { problems: [problem], warnings: [] };
  }
  const served = (host) => routes.some((r) => matches(r.host, host));
  const problems = [];
  if (!served(domain)) {
    problems.push(
      `[env.${env}] no route serves PLATFORM_DOMAIN ${domain} (the platform API and the tokens' issuer https://${domain}): add { pattern = "${domain}/*", zone_name = "<its zone>" } to routes (docs/configuration.md, "Domains")`,
    );
  }
  // One tenant's host stands for them all: what serves it serves every <slug>.<domain>.
  if (!served(`tenant-host-check.${domain}`)) {
    problems.push(
      `[env.${env}] no route serves the tenants' hosts *.${domain}: add { pattern = "*.${domain}/*", zone_name = "<its zone>" } to routes (a Custom Domain cannot be a wildcard; docs/configuration.md, "Domains")`,
    );
  }
  return { problems, warnings: [] };
}
