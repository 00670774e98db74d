// The operations assets, checked by Prometheus' own tool: the scrape example is
// a valid configuration, and every query of the Grafana dashboard parses and
// names only metrics plinth exports (a renamed metric would leave a panel blank).
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
});
