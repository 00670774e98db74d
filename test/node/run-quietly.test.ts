// `plinth new module` runs Biome's formatting pass through runQuietly: what a step prints is
// kept from the user while it succeeds and handed back whole, both streams, when it fails.
import { describe, expect, it } from "vitest";
import { runQuietly } from "../../scripts/lib/env.mjs";

const says = (exit: number) => [
  "-e",
  `process.stdout.write("Checked 12 files. "); process.stderr.write("Fixed 5 files."); process.exit(${exit})`,
];

describe("runQuietly", () => {
  it("hands back a failing step's exit code with what it printed on stdout and stderr", async () => {
    const result = await runQuietly(process.execPath, says(3));
    expect(result.code).toBe(3);
    expect(result.output).toContain("Checked 12 files.");
    expect(result.output).toContain("Fixed 5 files.");
  });

  it("answers 0 for a step that succeeds, its output captured rather than shown", async () => {
    const result = await runQuietly(process.execPath, says(0));
    expect(result.code).toBe(0);
    // Both streams, in whichever order the pipes deliver them.
    expect(result.output.split(/(?<=\.) /).sort()).toEqual(["Checked 12 files.", "Fixed 5 files."]);
  });

  it("keeps a character whose bytes two reads of the pipe split (a pipe is read 64 KiB at a time)", async () => {
    // An en dash (3 bytes in UTF-8) across every 64 KiB boundary of a megabyte of output.
    const script = `const dash = "a".repeat(65535) + "\u2013"; process.stdout.write(dash.repeat(16));`;
    const result = await runQuietly(process.execPath, ["-e", script]);
    expect(result.code).toBe(0);
    expect(result.output).not.toContain("\ufffd");
    expect(result.output.split("\u2013")).toHaveLength(17);
  });

  it("answers 127 for a command that is not there, naming it", async () => {
    const result = await runQuietly("/nonexistent/biome", ["check"]);
    expect(result.code).toBe(127);
    expect(result.output).toContain("/nonexistent/biome");
  });
});
