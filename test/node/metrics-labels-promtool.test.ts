// Label values plinth does not choose itself, rendered by the real recorder and renderer and
// checked by Prometheus' own `promtool check metrics`: a module's rate-limit policy names
// (`plinth_rate_limit_decisions_total{policy=…}`), the longest the registry allows included, and
// the kind of a field a module seals under (`plinth_unseal_failures_total{kind=…}`): a declared
// kind or `undeclared` since kernel/crypto/sealed-kinds.ts, once the field's own text, so the
// renderer is still given quotes, backslashes and line feeds here. metrics-promtool.test.ts
// checks a served Worker's text, whose modules declare no policy of their own.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { METRICS } from "../../src/kernel/metrics/catalog";
import { renderPrometheus } from "../../src/kernel/metrics/prometheus";
import { MetricsRecorder } from "../../src/kernel/metrics/recorder";
import { rateLimitProblems } from "../../src/kernel/modules/rate-limits";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { DEFAULT_POLICIES } from "../../src/kernel/ratelimit/policies";

const PROMTOOL = "/usr/bin/promtool";

/** The longest module name (63) and policy name (63) the registry takes: 127 characters in all. */
const LONGEST = `h-d2${"x".repeat(59)}.o_9${"p".repeat(60)}`;
const OPEN = DEFAULT_POLICIES.mail;

/** The label values of `metric`'s samples, read back with the text format's escapes undone. */
function labelValues(text: string, metric: string, label: string): string[] {
  const sample = new RegExp(`^${metric}\\{(.*)\\} \\d+$`);
  const pair = new RegExp(`(?:^|,)${label}="((?:[^"\\\\\\n]|\\\\["\\\\n])*)"`);
  return text
    .split("\n")
    .map((line) => sample.exec(line)?.[1])
    .filter((labels) => labels !== undefined)
    .map((labels) => {
      const value = pair.exec(labels)?.[1];
      if (value === undefined) throw new Error(`no ${label} in {${labels}}`);
      return value.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
    });
}

describe("label values from modules under promtool", () => {
  it("renders module policy names and a module's sealed kinds as promtool reads them, whole and escaped", () => {
    if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: apt-get install prometheus (npm test does)`);
    const module: ModuleDef = { name: LONGEST.split(".")[0] ?? "", version: "1.0.0", rate_limits: { [LONGEST]: OPEN } };
    expect(rateLimitProblems([module])).toEqual([]);

    const recorder = new MetricsRecorder();
    const policies = [...Object.keys(DEFAULT_POLICIES), "tickets.open", LONGEST];
    for (const policy of policies) recorder.inc(METRICS.rateLimitDecisions, [policy, "allowed"]);
    const kinds = ['tickets.a"b', "tickets.a\\b", "tickets.a\nb", "tickets.\u00e9t\u00e9 \u{1F600}"];
    for (const kind of kinds) recorder.inc(METRICS.unsealFailures, ["not_authentic", kind, "1"]);
    const text = renderPrometheus(recorder.take() ?? []);

    const check = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8" });
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({
      status: 0,
      stdout: "",
      stderr: "",
    });
    // Whole: the recorder cuts a label at 128 characters, and two long names cut alike would share a series.
    expect(labelValues(text, "plinth_rate_limit_decisions_total", "policy").sort()).toEqual([...policies].sort());
    expect(labelValues(text, "plinth_unseal_failures_total", "kind").sort()).toEqual([...kinds].sort());
  });
});
