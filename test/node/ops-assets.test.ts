// The operations assets, checked by Prometheus' own tool: the scrape example is
// a valid configuration, and every query of the Grafana dashboard parses and
// names only metrics plinth exports (a renamed metric would leave a panel blank), and the
// alerts docs/observability.md offers fire on the first event of a kind.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ALL_METRICS } from "../../src/kernel/metrics/catalog";

const ROOT = path.resolve(import.meta.dirname, "../..");
const PROMTOOL = "/usr/bin/promtool";
const dir = mkdtempSync(path.join(tmpdir(), "plinth-ops-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(readFileSync(path.join(ROOT, "ops/grafana/plinth.json"), "utf8")) as { panels: Panel[] };
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe("ops/", () => {
  it("prometheus.yml is a configuration promtool accepts", () => {
    // Its token file is the operator's; a stand-in lets promtool check the rest.
    const token = path.join(dir, "token");
    writeFileSync(token, "metrics-token-0123456789abcdef\n");
    const config = path.join(dir, "prometheus.yml");
    writeFileSync(
      config,
      readFileSync(path.join(ROOT, "ops/prometheus.yml"), "utf8").replace(
        "/etc/prometheus/plinth-metrics-token",
        token,
      ),
    );
    const check = spawnSync(PROMTOOL, ["check", "config", config], { encoding: "utf8" });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: "" });
  });

  it("every dashboard query parses (as a recording rule) and names only metrics plinth exports", () => {
    expect(queries.length).toBeGreaterThan(10);
    const exported = new Set(
      ALL_METRICS.flatMap((m) =>
        m.kind === "histogram" ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
      ),
    );
    for (const q of queries) {
      for (const name of q.expr.match(/\bplinth_[a-z0-9_]+/g) ?? [])
        expect(exported, `${q.panel}: ${name}`).toContain(name);
    }
    // Grafana's variables, as Grafana substitutes them.
    const rules = {
      groups: [
        {
          name: "dashboard",
          rules: queries.map((q, i) => ({
            record: `plinth:dashboard_query_${i}`,
            expr: q.expr.replaceAll("$__rate_interval", "5m").replaceAll("$job", ".*"),
          })),
        },
      ],
    };
    const file = path.join(dir, "rules.yml");
    writeFileSync(file, JSON.stringify(rules)); // JSON is YAML
    const check = spawnSync(PROMTOOL, ["check", "rules", file], { encoding: "utf8" });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: "" });
  });

  // plinth's counters have no series until their first observation, which is born at 1:
  // increase() sees no rise from nothing, so an alert on increase alone missed the first
  // dead letter of each type and the first unreadable value of each kind (Prometheus 2).
  it("the alerts docs/observability.md offers fire on a series born at its first count", () => {
    const docs = readFileSync(path.join(ROOT, "docs/observability.md"), "utf8");
    const blocks = [...docs.matchAll(/```yaml\n(- alert: (\w+)\n[\s\S]*?)```/g)];
    const firstOf: Record<string, { series: string; labels: Record<string, string> }> = {
      PlinthDeadLetters: {
        series: 'plinth_dead_letters_total{source="mail",type="identity.verify-email"}',
        labels: { source: "mail", type: "identity.verify-email" },
      },
      PlinthMailNotQueued: {
        series: 'plinth_mail_enqueue_failed_total{kind="identity.invitation",outcome="kept"}',
        labels: { kind: "identity.invitation", outcome: "kept" },
      },
      PlinthQueueConfigInvalid: {
        series: 'plinth_queue_batches_config_invalid_total{queue="plinth-events"}',
        labels: { queue: "plinth-events" },
      },
      PlinthSealedValuesUnreadable: {
        series: 'plinth_unseal_failures_total{reason="unknown_key_version",kind="mail",version="3"}',
        labels: { kind: "mail", version: "3" },
      },
    };
    expect(blocks.map((b) => b[2]).sort()).toEqual(Object.keys(firstOf).sort());
    for (const [, rule = "", name = ""] of blocks) {
      const indented = rule.replace(/^/gm, "      ");
      writeFileSync(path.join(dir, `${name}.rules.yml`), `groups:\n  - name: docs\n    rules:\n${indented}`);
      const { series, labels } = firstOf[name] ?? { series: "", labels: {} };
      const test = {
        rule_files: [`${name}.rules.yml`],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            // No series for 10 minutes, then the first observation.
            input_series: [{ series, values: "_x10 1x30" }],
            alert_rule_test: [{ eval_time: "15m", alertname: name, exp_alerts: [{ exp_labels: labels }] }],
          },
        ],
      };
      const file = path.join(dir, `${name}.test.yml`);
      writeFileSync(file, JSON.stringify(test));
      const run = spawnSync(PROMTOOL, ["test", "rules", file], { encoding: "utf8" });
      expect({ name, status: run.status, out: run.status === 0 ? "" : run.stdout + run.stderr }).toEqual({
        name,
        status: 0,
        out: "",
      });
    }
  });
});
