// scripts/jwt-keys.mjs, the operator's tool for JWT_SIGNING_KEYS: the Worker signs with the
// first key and verifies with every key, and its JWKS says max-age=300. Rotating so that a
// verifier holding a cached JWKS never meets an unknown kid takes two puts: stage (published,
// not signing), then promote. After a leak, drop removes a key so its tokens stop verifying.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dropSigningKey, newSigningKeySet, promoteSigningKey, stageSigningKey } from "../../scripts/jwt-keys.mjs";

const script = join(import.meta.dirname, "..", "..", "scripts", "jwt-keys.mjs");
const kids = (value: string) => (JSON.parse(value) as { kid: string }[]).map((k) => k.kid);

function run(args: string[], stdin: string) {
  const r = spawnSync(process.execPath, [script, ...args], { input: stdin, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("jwt-keys: stage, promote, drop", () => {
  it("stages a new key last (the current key keeps signing), then promotes it first", () => {
    const start = newSigningKeySet();
    const [current] = kids(start);
    const staged = stageSigningKey(start);
    expect(kids(staged.value)).toEqual([current, staged.added]);
    expect(staged.dropped).toEqual([]);
    const promoted = promoteSigningKey(staged.value, staged.added);
    expect(kids(promoted.value)).toEqual([staged.added, current]);
    // The keys are carried over whole: the promoted set holds the same private keys.
    expect(JSON.parse(promoted.value)).toEqual(expect.arrayContaining(JSON.parse(staged.value)));
  });

  it("staging keeps at most three keys, dropping the oldest, never the signing one", () => {
    let value = newSigningKeySet();
    const [first] = kids(value);
    value = stageSigningKey(value).value;
    const second = stageSigningKey(value);
    expect(second.dropped).toEqual([]);
    const third = stageSigningKey(second.value);
    expect(kids(third.value)).toHaveLength(3);
    expect(kids(third.value)[0]).toBe(first);
    expect(kids(third.value).at(-1)).toBe(third.added);
    expect(third.dropped).toHaveLength(1);
  });

  it("drops a leaked key; the next one signs; refuses an unknown kid and the only key", () => {
    const start = newSigningKeySet();
    const [leaked] = kids(start);
    const staged = stageSigningKey(start);
    const dropped = dropSigningKey(staged.value, leaked as string);
    expect(kids(dropped.value)).toEqual([staged.added]);
    expect(dropped.signing).toBe(staged.added);
    expect(() => dropSigningKey(start, "k-nope")).toThrow('no key "k-nope"');
    expect(() => dropSigningKey(start, leaked as string)).toThrow("only key");
    expect(() => promoteSigningKey(start, "k-nope")).toThrow('no key "k-nope"');
  });

  it("runs from the command line: the value on stdout, what changed on stderr, never key material", () => {
    const start = newSigningKeySet();
    const staged = run(["--stage", "-"], start);
    expect(staged.status, staged.stderr).toBe(0);
    const [current, added] = kids(staged.stdout);
    expect(staged.stderr).toContain(`staged ${added}`);
    const promoted = run(["--promote", added as string, "-"], staged.stdout);
    expect(promoted.status, promoted.stderr).toBe(0);
    expect(kids(promoted.stdout)).toEqual([added, current]);
    const dropped = run(["--drop", current as string, "-"], promoted.stdout);
    expect(dropped.status, dropped.stderr).toBe(0);
    expect(kids(dropped.stdout)).toEqual([added]);
    const bad = run(["--drop", "k-nope", "-"], start);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe("");
    const secretD = (JSON.parse(start) as { d: string }[])[0]?.d as string;
    expect(bad.stderr).not.toContain(secretD);
  });
});
