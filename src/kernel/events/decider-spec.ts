/**
 * Given/when/then for deciders, after Emmett's `DeciderSpecification`:
 * given past events, when a command is decided, then these events (or this
 * error code). It throws a plain Error with a readable diff, so it works in
 * any test framework; nothing here imports one.
 */
import { fieldPath } from "../errors/field-path";
import { type DecideContext, type Decider, type DomainError, fold, type NewEvent } from "./decider";

/** The context used when a test does not pass one: a fixed clock and a user actor. */
export const SPEC_CONTEXT: DecideContext = {
  now: "2026-01-01T00:00:00.000Z",
  actor: { kind: "user", id: "user_spec" },
};

/** What a passing `then` returns: the emitted events and the state after them. */
export interface SpecOutcome<E extends NewEvent, S> {
  events: E[];
  state: S;
}

/** The step after `when`: assert the events, or the rejection. */
export interface WhenStep<E extends NewEvent, S> {
  /**
   * Asserts the command is accepted with exactly these events, compared as
   * JSON (key order and `undefined` members do not matter). Also checks each
   * emitted event against the decider's `eventSchema`.
   */
  then(expected: readonly E[]): SpecOutcome<E, S>;
  /** Asserts the command is rejected with this error code; returns the error. */
  thenError(code: string): DomainError;
}

/** The step after `given`: the state the events fold to, and `when`. */
export interface GivenStep<C extends { type: string }, E extends NewEvent, S> {
  state: S;
  when(command: C, ctx?: DecideContext): WhenStep<E, S>;
}

/**
 * Starts a decider spec from past events (none for a new stream).
 *
 * @example
 * given(postDecider, [created]).when({ type: "publish" }, ctx).then([
 *   { type: "blog.post.published", data: { published_at: ctx.now, title: "Hello", author_id: "u_ada" } },
 * ]);
 * given(postDecider, []).when({ type: "publish" }).thenError("not_found");
 */
export function given<C extends { type: string }, E extends NewEvent, S>(
  decider: Decider<C, E, S>,
  events: readonly E[] = [],
): GivenStep<C, E, S> {
  const state = fold(decider, events);
  return {
    state,
    when(command, ctx = SPEC_CONTEXT) {
      const decide = () => decider.decide(command, state, ctx);
      return {
        // biome-ignore lint/suspicious/noThenProperty: given/when/then is the decider-test idiom; `when` is synchronous and awaiting it is caught below.
        then(expected) {
          if (typeof expected === "function") {
            throw new Error("decider spec: the result of when() was awaited; call .then(events) on it directly");
          }
          const decision = decide();
          if (!decision.ok) {
            throw new Error(
              `decider spec: expected ${expected.length} event(s), but "${command.type}" was rejected ` +
                `with ${decision.error.code}: ${decision.error.message}\nexpected:\n${pretty(expected)}`,
            );
          }
          const want = pretty(expected);
          const got = pretty(decision.events);
          if (want !== got) {
            throw new Error(
              `decider spec: events differ for "${command.type}" (- expected, + actual)\n${diff(want, got)}`,
            );
          }
          decision.events.forEach((event, i) => {
            const parsed = decider.eventSchema.safeParse(event);
            if (!parsed.success) {
              // A record's key may hold a dot (a policy `tickets.open`): fieldPath keeps it one key.
              const issues = parsed.error.issues.map((issue) => `  ${fieldPath(issue.path)}: ${issue.message}`);
              throw new Error(`decider spec: event ${i} (${event.type}) fails eventSchema\n${issues.join("\n")}`);
            }
          });
          return { events: decision.events, state: fold(decider, decision.events, state) };
        },
        thenError(code) {
          const decision = decide();
          if (decision.ok) {
            throw new Error(
              `decider spec: expected "${command.type}" to be rejected with ${code}, but it was accepted ` +
                `with ${decision.events.length} event(s):\n${pretty(decision.events)}`,
            );
          }
          if (decision.error.code !== code) {
            throw new Error(
              `decider spec: expected "${command.type}" to be rejected with ${code}, ` +
                `got ${decision.error.code}: ${decision.error.message}`,
            );
          }
          return decision.error;
        },
      };
    },
  };
}

/** JSON with sorted keys, indented, so equal values print equally and diffs line up. */
function pretty(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) ?? "undefined";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

/** A line diff by longest common subsequence; `-` lines are expected only, `+` lines actual only. */
function diff(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  // Event lists in a test are small; past this size the table costs more than reading both is worth.
  if (a.length * b.length > 250_000) return `- expected\n${expected}\n+ actual\n${actual}`;
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  const at = (i: number, j: number) => table[i * width + j] ?? 0;
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * width + j] = a[i] === b[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (j >= b.length || (i < a.length && at(i + 1, j) >= at(i, j + 1))) {
      out.push(`- ${a[i]}`);
      i++;
    } else {
      out.push(`+ ${b[j]}`);
      j++;
    }
  }
  return out.join("\n");
}
