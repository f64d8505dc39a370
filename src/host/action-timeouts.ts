// The host's action timeouts, one list per duration. Actions of one duration time out in the
// order they started, so each duration needs one timer, armed for the oldest action still
// running: a run joins the list's end when it starts and leaves it when it ends (two pointers
// of its own, nothing allocated), and the list's one Node timer is re-armed in place (refresh)
// when a run joins an empty list. A Node timer per action (its Timeout and argument array) was
// part of what every action allocated.
import { performance } from 'node:perf_hooks';
import { type ReusableTimer, reusableTimer, realClock } from '../util/clock.js';

/** A run in a timeout list: its deadline and its neighbours, kept on the run itself. */
export interface Timed {
  /** performance.now() at which it times out. */
  deadline: number;
  prevTimed: Timed | null;
  nextTimed: Timed | null;
  /** Whether it is in a list now. */
  inTimeoutList: boolean;
  /** Its timeout passed while it was in the list (it has left the list already). */
  timedOut(): void;
}

export class TimeoutList {
  private head: Timed | null = null;
  private tail: Timed | null = null;
  private readonly timer: ReusableTimer;

  constructor(private readonly ms: number) {
    // Real time, as Node's setTimeout was: a host on a fake clock still times actions out in real time.
    this.timer = reusableTimer(realClock, this.due);
  }

  /** Starts `run`'s timeout (`ms` from now). */
  add(run: Timed): void {
    run.deadline = performance.now() + this.ms;
    run.prevTimed = this.tail;
    run.nextTimed = null;
    run.inTimeoutList = true;
    if (this.tail) this.tail.nextTimed = run;
    else this.head = run;
    this.tail = run;
    // The only run: the timer waits for it. Otherwise it is armed for an older one already.
    if (this.head === run) this.timer.start(this.ms);
  }

  /** Ends `run`'s timeout (it answered or failed first). */
  remove(run: Timed): void {
    if (!run.inTimeoutList) return;
    run.inTimeoutList = false;
    if (run.prevTimed) run.prevTimed.nextTimed = run.nextTimed;
    else this.head = run.nextTimed;
    if (run.nextTimed) run.nextTimed.prevTimed = run.prevTimed;
    else this.tail = run.prevTimed;
    run.prevTimed = null;
    run.nextTimed = null;
    // Nothing left to wait for. (A removed head leaves the timer armed for its deadline: when it
    // fires, the runs due time out and it waits again for the oldest left.)
    if (this.head === null) this.timer.stop();
  }

  /** The timer fired: every run whose deadline passed times out, oldest first. */
  private readonly due = (): void => {
    const now = performance.now();
    for (let run = this.head; run !== null && run.deadline <= now; run = this.head) {
      this.remove(run);
      run.timedOut();
    }
    // Node's timer clock counts whole milliseconds: a run not yet due is waited for again.
    if (this.head !== null) this.timer.start(Math.max(1, Math.ceil(this.head.deadline - performance.now())));
  };
}
