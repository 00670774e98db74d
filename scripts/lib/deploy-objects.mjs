// Which Durable Object classes an environment's [[migrations]] leave in place, so `npm run
// deploy` names a binding whose class none creates. wrangler's dry run bundles such a config
// without a word; Cloudflare refuses the upload, after the D1 migrations already ran.

/**
 * @typedef {{ tag: string, new_classes?: string[], new_sqlite_classes?: string[], renamed_classes?: { from: string, to: string }[], deleted_classes?: string[], transferred_classes?: { from: string, from_script?: string, to: string }[] }} Migration
 * @typedef {{ name: string, class_name?: string, script_name?: string }} ObjectBinding
 */

/**
 * The classes the migrations create and have not deleted, each with the tag that last touched
 * it, and the classes they deleted, with the deleting tag.
 * @param {Migration[]} migrations in order, as wrangler applies them
 */
function classesOf(migrations) {
  const live = new Map();
  const deleted = new Map();
  const add = (name, tag) => {
    live.set(name, tag);
    deleted.delete(name);
  };
  for (const m of migrations) {
    for (const name of [...(m.new_classes ?? []), ...(m.new_sqlite_classes ?? [])]) add(name, m.tag);
    for (const { from, to } of m.renamed_classes ?? []) {
      live.delete(from);
      add(to, m.tag);
    }
    for (const { to } of m.transferred_classes ?? []) add(to, m.tag);
    for (const name of m.deleted_classes ?? []) {
      live.delete(name);
      deleted.set(name, m.tag);
    }
  }
  return { live, deleted };
}

/** The next tag after the last `v<n>` one, for the message. */
function nextTag(migrations) {
  const numbers = migrations.map((m) => /^v(\d+)$/.exec(m.tag)?.[1]).filter((n) => n !== undefined);
  return `v${numbers.length > 0 ? Math.max(...numbers.map(Number)) + 1 : migrations.length + 1}`;
}

/**
 * The environment's Durable Object bindings (its own class, not another Worker's via
 * `script_name`) whose class no migration creates, or one deleted since.
 * @param {{ durable_objects?: { bindings?: ObjectBinding[] }, migrations?: Migration[] }} config the resolved config (migrations are inherited)
 * @param {string} env
 * @returns {string[]}
 */
export function migrationProblems(config, env) {
  const migrations = config.migrations ?? [];
  const { live, deleted } = classesOf(migrations);
  const problems = [];
  for (const binding of config.durable_objects?.bindings ?? []) {
    const name = binding.class_name;
    if (!name || binding.script_name || live.has(name)) continue;
    const gone = deleted.get(name);
    problems.push(
      gone
        ? `[env.${env}] Durable Object binding ${binding.name}: class ${name} was deleted by migration ${gone}; remove the binding, or create the class again in a new [[migrations]] entry (docs/operations.md, "Deploys, upgrades, rollback")`
        : `[env.${env}] Durable Object binding ${binding.name}: no [[migrations]] entry creates class ${name}, and Cloudflare refuses the upload; add one at the top level (inherited by every environment): [[migrations]] tag = "${nextTag(migrations)}" new_sqlite_classes = ["${name}"] (docs/operations.md, "Deploys, upgrades, rollback")`,
    );
  }
  return problems;
}
