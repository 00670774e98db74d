// The order of a tenant's erasure, decided from the modules' declarations alone.
import { describe, expect, it } from "vitest";
import { erasureSteps, remainingSteps } from "../../src/kernel/erasure/steps";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules as registered } from "../../src/modules";

const mod = (name: string, erase: boolean): ModuleDef => ({
  name,
  version: "1.0.0",
  ...(erase ? { erasure: { erase: async () => {} } } : {}),
});

describe("erasure steps", () => {
  it("key material first, then each erasing module, dependents before what they depend on, then aggregates and tables", () => {
    // Dependency order, as the registry hands it: base before notes before reports.
    const steps = erasureSteps([mod("base", true), mod("plain", false), mod("notes", true), mod("reports", true)]);
    expect(steps.map((s) => s.name)).toEqual([
      "keys",
      "module:reports",
      "module:notes",
      "module:base",
      "aggregates",
      "tables",
    ]);
  });

  it("the registered modules: files, webhooks and audit erase their stores; identity only shreds", () => {
    expect(erasureSteps(registered).map((s) => s.name)).toEqual([
      "keys",
      "module:files",
      "module:webhooks",
      "module:audit",
      "aggregates",
      "tables",
    ]);
  });

  it("a run resumes at the first step not recorded done, in order", () => {
    const steps = erasureSteps([mod("base", true), mod("notes", true)]);
    expect(remainingSteps(steps, ["keys", "module:notes"]).map((s) => s.name)).toEqual([
      "module:base",
      "aggregates",
      "tables",
    ]);
    expect(
      remainingSteps(
        steps,
        steps.map((s) => s.name),
      ),
    ).toEqual([]);
  });
});
