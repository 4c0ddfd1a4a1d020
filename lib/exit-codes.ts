// The exit codes every command of the suite ends with, in one place (the bench, the merge of N
// runners, the report, the tests). 99 is k6's own code for failed thresholds; the merge of N runners
// reuses it so a CI gate reads the same number whether one k6 or several ran.
export const EXIT_OK = 0;
/** Bad configuration: one line names the variable and what it accepts. */
export const EXIT_CONFIG = 2;
/** With VALIDITY=fail: a level is INVALID (lib/verdict.ts) while every threshold and gate held: its
 * figures rest on too little (too few samples, too short, dropped arrivals, unstable) to be quoted. */
export const EXIT_INVALID = 96;
/** The server under test exited or stopped answering /health during the run; partial results kept. */
export const EXIT_SERVER_LOST = 97;
/** A post-processing gate (accuracy, capacity, soak memory, ...) failed while k6's thresholds held. */
export const EXIT_POSTPROCESS_FAILED = 98;
/** A k6 threshold failed (k6's own code); also, with UNDECIDED=fail, a latency threshold that 95 %
 * confidence leaves undecided (lib/verdict.ts), so a CI gate reads one code for "not shown to hold". */
export const EXIT_THRESHOLDS_FAILED = 99;

/** What an exit code means, for the last line a command prints. */
export const EXIT_MEANING: Readonly<Record<number, string>> = {
  [EXIT_CONFIG]: 'bad configuration',
  [EXIT_INVALID]: 'a level is INVALID (VALIDITY=fail): summary.txt says what would fix it',
  [EXIT_SERVER_LOST]: 'server lost, results INCOMPLETE',
  [EXIT_POSTPROCESS_FAILED]: 'post-processing gate failed',
  [EXIT_THRESHOLDS_FAILED]: 'k6 thresholds failed (or, with UNDECIDED=fail, undecided)',
};
