import { fieldPath } from "../errors/field-path";
import { isKernelPolicy, type Policy, PolicySchema } from "../ratelimit/policies";
import type { RegistryProblem } from "./registry";
import type { ModuleDef } from "./types";

/**
 * A module's policy name after its `<module>.`: lower case, as a permission's parts. The dot
 * keeps it apart from every kernel name (none has one), and the module's own name before it
 * from every other module's, so two modules never share a bucket, a header item or a label.
 */
const LOCAL_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * What is wrong with the modules' `rate_limits`: a name that is the kernel's, one outside
 * `<module>.<name>`, and a policy the kernel's schema refuses (a limit of 0, a mode it does
 * not know), each named with the field at fault.
 */
export function rateLimitProblems(defs: readonly ModuleDef[]): RegistryProblem[] {
  const problems: RegistryProblem[] = [];
  for (const def of defs) {
    for (const [name, policy] of Object.entries(def.rate_limits ?? {})) {
      const say = (problem: string) =>
        problems.push({ module: def.name, problem: `rate-limit policy "${name}" ${problem}` });
      const local = name.startsWith(`${def.name}.`) ? name.slice(def.name.length + 1) : undefined;
      if (isKernelPolicy(name)) say("is the kernel's: charge it without declaring it");
      else if (local === undefined || !LOCAL_NAME.test(local)) {
        say(`must be "${def.name}.<name>" (the name: a-z, 0-9 and '_', starting with a letter)`);
      }
      const parsed = PolicySchema.strict().safeParse(policy);
      for (const issue of parsed.success ? [] : parsed.error.issues) {
        // Written as a 400's path is (fieldPath), so the registry's problems and the API read one form.
        say(`${fieldPath(issue.path) || "(policy)"}: ${issue.message}`);
      }
    }
  }
  return problems;
}

/** The registered modules' policies by name, for the config (`RATE_LIMITS`) and the limiter. */
export function moduleRatePolicies(defs: readonly ModuleDef[]): Readonly<Record<string, Policy>> {
  return Object.assign({}, ...defs.map((d) => d.rate_limits ?? {}));
}
