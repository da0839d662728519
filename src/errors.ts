/** Process exit codes, in one place (the table in README.md, "Thresholds and exit codes", tells users what each means). */
export const ExitCode = {
  ok: 0,
  thresholdFailed: 1,
  usage: 2,
  couldNotRun: 3,
  /** A threshold with `abort` failed while the run went on and stopped it (k6 uses 99 for its thresholds too). */
  abortedByThreshold: 99,
  interruptedSigint: 130,
  interruptedSigterm: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected error: printed as one line, never with a stack trace. */
export class ResilError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  constructor(message: string, code: string, exitCode: ExitCodeValue) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad flags, bad campaign input, bad threshold expression: exit 2. */
export class UsageError extends ResilError {
  /**
   * Control characters echoed from input (a newline inside a flag value) are escaped, so the message
   * stays one line; `lines` keeps the given line breaks (a campaign file's list of problems).
   */
  constructor(message: string, options: { lines?: boolean } = {}) {
    super(options.lines ? message.split('\n').map(escapeControl).join('\n') : escapeControl(message), 'RESIL_USAGE', ExitCode.usage);
  }
}

/** '\n' → '\\n' and the like, for text echoed into a one-line message. */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** The run could not be carried out (target unreachable, port taken): exit 3. */
export class CouldNotRunError extends ResilError {
  constructor(message: string) {
    super(message, 'RESIL_COULD_NOT_RUN', ExitCode.couldNotRun);
  }
}

/** Collects every problem found while validating one input, then throws them as one UsageError. */
export class ProblemList {
  private readonly problems: string[] = [];
  add(problem: string): void {
    this.problems.push(problem);
  }
  /** Runs `fn`; a UsageError it throws is collected (and undefined returned) so checking can go on. */
  attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      this.add(error.message);
      return undefined;
    }
  }
  get size(): number {
    return this.problems.length;
  }
  throwIfAny(): void {
    if (this.problems.length > 0) throw new UsageError(this.problems.join('; '));
  }
}
