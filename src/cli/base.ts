import { Command, Errors } from '@oclif/core';
import { ExitCode, ResilError } from '../errors.js';
import { scrubSecrets, secretValuesFromArgv } from '../util/redact.js';

/**
 * Base of every resil command: expected errors (bad input, a run that cannot start) print one line
 * and exit with their code; flag-parsing errors are usage errors (exit 2). Anything else is a bug and
 * is shown in full.
 */
export abstract class BaseCommand extends Command {
  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    // Messages can echo input; never echo a secret the user handed in.
    const secrets = secretValuesFromArgv(process.argv);
    if (error instanceof ResilError) {
      process.stderr.write(`resil: ${scrubSecrets(error.message, secrets)}\n`);
      this.exit(error.exitCode);
    }
    if (isParseError(error)) {
      process.stderr.write(`resil: ${scrubSecrets(oneLine(error.message), secrets)}\n`);
      this.exit(ExitCode.usage);
    }
    throw error;
  }
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
