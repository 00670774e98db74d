// migrations/*.sql against drizzle-kit's record of them, migrations/meta/_journal.json.
//
// wrangler applies every .sql file by name, so it never notices; but drizzle-kit generates the
// next migration from the journal's last snapshot, and drizzle's migrator (libSQL read models)
// applies only what the journal lists. A file the journal lacks is what a merge of plinth's
// updates leaves when upstream and a fork each added a migration with the same number and the
// conflict in meta/ was resolved by taking one side: the next `drizzle-kit generate` would make
// the other side's tables again, and `npm test` only said the schemas "changed".

import { readFileSync } from "node:fs";
import { join } from "node:path";

const GUIDE = `docs/operations.md, "Taking plinth's updates"`;

/**
 * Why `<folder>/meta/_journal.json` cannot be read as drizzle-kit's journal (its read error's
 * code, not JSON, no list of entries with a tag and a time), or null when it can. The libSQL
 * migrator applies from it; read first, a journal a merge left broken is named before anything
 * is applied rather than failing the libSQL step after D1 was migrated.
 * @param {string} folder the migrations folder
 * @returns {string | null}
 */
export function unreadableJournal(folder) {
  let text;
  try {
    text = readFileSync(join(folder, "meta", "_journal.json"), "utf8");
  } catch (error) {
    return error.code ?? error.message;
  }
  let journal;
  try {
    journal = JSON.parse(text);
  } catch (error) {
    return `not JSON (${error.message})`;
  }
  const entries = journal?.entries;
  if (!Array.isArray(entries) || !entries.every((e) => typeof e?.tag === "string" && Number.isInteger(e?.when))) {
    return 'no "entries" list of { tag, when }';
  }
  return null;
}

/**
 * What is wrong between the migration files and the journal, one line each (none when they agree).
 * @param {string[]} files the .sql file names in migrations/
 * @param {{ entries?: { tag: string }[] }} journal migrations/meta/_journal.json, parsed
 * @returns {string[]}
 */
export function journalProblems(files, journal) {
  const listed = new Set((journal.entries ?? []).map((e) => `${e.tag}.sql`));
  const present = new Set(files);
  const numberOf = (name) => /^(\d+)_/.exec(name)?.[1];
  const problems = [];
  for (const file of files) {
    if (listed.has(file)) continue;
    const twin = files.find((other) => other !== file && numberOf(other) === numberOf(file) && listed.has(other));
    problems.push(
      twin
        ? `generate: migrations/${file} shares its number with ${twin}, and migrations/meta/_journal.json lists only ${twin}: two branches each added migration ${numberOf(file)} (a merge of plinth's updates?), and drizzle-kit's next migration would make ${file}'s tables again. Regenerate or re-list the one that is yours (${GUIDE})`
        : `generate: migrations/${file} is not in migrations/meta/_journal.json, so drizzle-kit and the libSQL migrator do not know it. Write migrations with \`npx drizzle-kit generate --name <what>\` (\`--custom\` for hand-written SQL); after a merge, see ${GUIDE}`,
    );
  }
  for (const file of listed) {
    if (!present.has(file)) {
      problems.push(
        `generate: migrations/meta/_journal.json lists ${file.replace(/\.sql$/, "")}, but migrations/${file} does not exist: put the file back, or take its entry and its snapshot out of meta/ (${GUIDE})`,
      );
    }
  }
  return problems;
}
