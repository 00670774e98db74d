// A merge where both sides changed a generated file (a product team taking plinth's updates, two
// branches of plinth) must stop as a conflict, to be resolved with `npm run generate`. Merged line
// by line, src/generated/openapi.json came out as neither side's document and no conflict said so:
// the fork's operations lacked the headers plinth had added to every other one (.gitattributes).
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const repo = mkdtempSync(path.join(tmpdir(), "plinth-generated-merge-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));

const git = (...args: string[]) =>
  spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo, encoding: "utf8" });

describe("a merge of two sides that both changed a generated file", () => {
  it("stops as a conflict with our version in place, not a line-by-line mix", () => {
    execFileSync("git", ["init", "-q", "-b", "main", repo]);
    copyFileSync(path.join(root, ".gitattributes"), path.join(repo, ".gitattributes"));
    const file = path.join(repo, "src", "generated", "openapi.json");
    mkdirSync(path.dirname(file), { recursive: true });
    const lines = Array.from({ length: 40 }, (_, i) => `  "line${i}": ${i},`);
    const write = (edit: (l: string[]) => void) => {
      const copy = [...lines];
      edit(copy);
      writeFileSync(file, `{\n${copy.join("\n")}\n  "end": true\n}\n`);
    };
    write(() => {});
    git("add", "-A");
    git("commit", "-qm", "base");
    git("checkout", "-qb", "plinth");
    write((l) => (l[2] = `  "line2": "plinth",`));
    git("commit", "-qam", "plinth's change");
    git("checkout", "-q", "main");
    write((l) => (l[30] = `  "line30": "fork",`));
    git("commit", "-qam", "the fork's change");
    const ours = readFileSync(file, "utf8");

    const merged = git("merge", "plinth");

    expect(merged.status).not.toBe(0);
    expect(git("diff", "--name-only", "--diff-filter=U").stdout.trim()).toBe("src/generated/openapi.json");
    expect(readFileSync(file, "utf8")).toBe(ours);
  });
});
