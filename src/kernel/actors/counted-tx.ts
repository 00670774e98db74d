import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";

/**
 * An actor's storage transactions, counting in plinth_outbox_appended_total the outbox
 * events the outermost commit kept. A nested call (a `transact` inside a handler) is a
 * savepoint: what it appended counts only if the outer commit keeps it, and a nested
 * rollback takes its events out of the count as it takes them out of the outbox.
 * The events committed and not yet handed to the outbox relay are kept too
 * ({@link takeUnsent}), so a commit that appended none asks SQLite nothing.
 */
export class CountedTransactions {
  /** Events appended in the transaction under way. */
  private events = 0;
  /** How many `run` calls are under way: more than one when a transaction nests. */
  private depth = 0;
  /** Events committed since the last {@link takeUnsent}. */
  private unsent = 0;

  /** `rolledBack` runs after a transaction (or savepoint) rolled back: memory that cached its writes forgets them. */
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly object: string,
    private readonly rolledBack: () => void = () => {},
  ) {}

  /** Notes one event appended to the outbox in the running transaction (outside one, it committed as written). */
  appended(): void {
    if (this.depth > 0) this.events++;
    else this.unsent++;
  }

  /** The events committed since the last call, for the relay's `afterCommit`; counting starts again at 0. */
  takeUnsent(): number {
    const unsent = this.unsent;
    this.unsent = 0;
    return unsent;
  }

  /** Runs `fn` in one storage transaction (a savepoint when one is under way). */
  run<T>(fn: () => T): T {
    const outermost = this.depth === 0;
    if (outermost) this.events = 0;
    const before = this.events;
    this.depth++;
    let result: T;
    try {
      result = this.storage.transactionSync(fn);
    } catch (error) {
      this.events = before;
      this.rolledBack();
      throw error;
    } finally {
      this.depth--;
    }
    if (outermost && this.events > 0) {
      isolateRecorder.inc(METRICS.outboxAppended, [this.object], this.events);
      this.unsent += this.events;
      this.events = 0;
    }
    return result;
  }
}
