import { Command, Errors, type Interfaces } from '@oclif/core';
import { escapeControl, ExitCode, ResilError, UsageError } from '../errors.js';
import { scrubSecrets, secretValuesFromArgv } from '../util/redact.js';
import { flagsFromEnvironment, shownEnvValues, unknownEnvVariables, withEnvContext, type EnvFlag, type FlagShape } from './env-flags.js';
import { unknownFlagsMessage } from './flag-hints.js';
import { FLAG_TABLES } from './command-options.js';
import { bareValueFlags, withBareValues } from './option-flags.js';

/**
 * Base of every resil command: flags can also come from RESIL_* variables (env-flags.ts); expected
 * errors (bad input, a run that cannot start) print one line and exit with their code; flag-parsing
 * errors are usage errors (exit 2), an unknown flag with the nearest known one. Anything else is a
 * bug and is shown in full.
 */
export abstract class BaseCommand extends Command {
  /** Flags whose values came from the environment (known once `parse` ran). */
  protected fromEnvironment: EnvFlag[] = [];
  /** The tokens the environment added to the command line. */
  private envTokens: string[] = [];

  protected override async parse<F extends Output, B extends Output, A extends Output>(
    options?: Interfaces.Input<F, B, A>,
    argv: string[] = this.argv,
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const allFlags = this.config.commands.flatMap((command) => [...Object.keys(command.flags ?? {}), 'json']);
    for (const warning of unknownEnvVariables(allFlags, process.env)) process.stderr.write(`resil: ${escapeControl(warning)}\n`);
    const shapes = flagShapes(options ?? this.ctor);
    const bareValues = bareValueFlags(FLAG_TABLES, Object.keys(shapes));
    argv = withBareValues(argv, bareValues);
    const fromEnvironment = flagsFromEnvironment(shapes, argv, process.env, bareValues);
    this.fromEnvironment = fromEnvironment.used;
    this.envTokens = fromEnvironment.argv.slice(0, fromEnvironment.argv.length - argv.length);
    return super.parse(options, fromEnvironment.argv);
  }

  /** The values that came from the environment, as reports show them (secrets redacted). */
  protected shownEnvironment(redactedHeaders: readonly string[] = []): Record<string, string> {
    return shownEnvValues(this.fromEnvironment, redactedHeaders);
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    // Messages can echo input; never echo a secret the user handed in, on the command line or in RESIL_*.
    const secrets = secretValuesFromArgv([...this.envTokens, ...process.argv]);
    const redacted = this.fromEnvironment.find((used) => used.flag === 'redact')?.values ?? [];
    const withEnv = (message: string) => withEnvContext(message, this.fromEnvironment, this.shownEnvironment(redacted));
    if (error instanceof ResilError) {
      process.stderr.write(`resil: ${scrubSecrets(error instanceof UsageError ? withEnv(error.message) : error.message, secrets)}\n`);
      this.exit(error.exitCode);
    }
    if (isParseError(error)) {
      const unknown = (error as { flags?: unknown }).flags;
      const message =
        Array.isArray(unknown) && /^Nonexistent flag/.test(error.message)
          ? unknownFlagsMessage(unknown as string[], flagShapes(this.ctor))
          : oneLine(error.message);
      process.stderr.write(`resil: ${scrubSecrets(withEnv(message), secrets)}\n`);
      this.exit(ExitCode.usage);
    }
    throw error;
  }
}

/** Parsed flags or arguments by name (oclif's FlagOutput and ArgOutput). */
type Output = Record<string, unknown>;

/** Every flag a command takes, with --json when the command has it. */
function flagShapes(input: {
  flags?: Interfaces.FlagInput;
  baseFlags?: Interfaces.FlagInput;
  enableJsonFlag?: boolean;
}): Record<string, FlagShape> {
  const shapes: Record<string, FlagShape> = { ...input.baseFlags, ...input.flags };
  if (input.enableJsonFlag) shapes.json = { type: 'boolean' };
  return shapes;
}

function isParseError(error: Error & { oclif?: { exit?: number } }): boolean {
  return error instanceof Errors.CLIError && (error.oclif?.exit === 2 || /flag|argument/i.test(error.message));
}

/** oclif's parse messages span lines, carry ANSI colour and a "See more help" hint: fold them to one line. */
function oneLine(message: string): string {
  return message
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('See more help'))
    .join(' ')
    .replace(/:\s*$/, '');
}
