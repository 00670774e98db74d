// A module for the queue consumer's tests: one event type, `notes.note.created`, and a
// subscriber that records what it handled and fails on the event ids it is told to.
import { z } from "zod";
import { subscribe } from "../../src/kernel/events/subscribe";
import type { ModuleDef } from "../../src/kernel/modules/types";

/** The event types the notes module publishes. */
export const Notes = z.discriminatedUnion("type", [
  z.object({ type: z.literal("notes.note.created"), data: z.object({ title: z.string() }) }),
]);

/** The notes module: `seen` lists the event ids its subscriber handled; it throws for those in `fail`. */
export function recordingModule(fail: Set<string>): { def: ModuleDef; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    def: {
      name: "notes",
      version: "1.0.0",
      events: {
        publishes: Notes,
        subscribes: [
          subscribe("record", Notes, ["notes.note.created"], async (e) => {
            if (fail.has(e.id)) throw new Error(`cannot handle ${e.id}`);
            seen.push(e.id);
          }),
        ],
      },
    },
  };
}
