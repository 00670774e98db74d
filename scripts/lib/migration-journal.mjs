// migrations/*.sql against drizzle-kit's record of them, migrations/meta/_journal.json.
//
// wrangler applies every .sql file by name, so it never notices; but drizzle-kit generates the
// next migration from the journal's last snapshot, and drizzle's migrator (libSQL read models)
// applies only what the journal lists. A file the journal lacks is what a merge of plinth's
// updates leaves when upstream and a fork each added a migration with the same number and the
// conflict in meta/ was resolved by taking one side: the next `drizzle-kit generate` would make
// the other side's tables again, and `npm test` only said the schemas "changed".

const GUIDE = `docs/operations.md, "Taking plinth's updates"`;

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
