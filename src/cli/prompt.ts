// Prompts, wrapped: on a terminal they ask; anywhere else (CI, pipes) a missing answer is a usage
// error that names the flag, and a confirmation needs --yes. Never a prompt in CI.
import { usageError } from '../shared/errors.js';

export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !process.env.CI;
}

export async function askText(message: string, flag: string, validate?: (value: string) => string | true): Promise<string> {
  if (!canPrompt()) throw usageError(`missing ${flag}: pass it on the command line (no terminal to ask on)`);
  const { input } = await import('@inquirer/prompts');
  return input({ message, validate: validate ?? ((value) => (value.trim() ? true : 'required')) }, { output: process.stderr });
}

/** A choice offered; `unusable` shows it greyed out with why, never selectable. */
export interface Choice {
  value: string;
  unusable?: string;
}

/** Asks for one of `choices` (the cursor starts on `preselect`, else the first usable one). */
export async function askChoice(message: string, flag: string, choices: readonly Choice[], preselect?: string): Promise<string> {
  const usable = choices.filter((choice) => choice.unusable === undefined).map((choice) => choice.value);
  if (!canPrompt()) throw usageError(`missing ${flag}: pass one of ${usable.join(', ')} (no terminal to ask on)`);
  const { select } = await import('@inquirer/prompts');
  return select(
    {
      message,
      choices: choices.map((choice) => ({ value: choice.value, name: choice.value, ...(choice.unusable === undefined ? {} : { disabled: choice.unusable }) })),
      ...(preselect !== undefined && usable.includes(preselect) ? { default: preselect } : {}),
    },
    { output: process.stderr },
  );
}

/** True when the user agreed. Without a terminal, only --yes agrees. */
export async function confirmAction(message: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!canPrompt()) throw usageError(`${message} needs confirmation: pass --yes (no terminal to ask on)`);
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message, default: false }, { output: process.stderr });
}
