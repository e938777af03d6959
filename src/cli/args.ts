import { InputError } from '../errors';

/** `--name value`, `--flag` and positional arguments; repeated options collect into arrays. */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

export function parseArgs(argv: readonly string[], flagNames: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positional: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      out.positional.push(arg);
      continue;
    }
    const name = arg.slice(2);
    if (flagNames.includes(name)) {
      out.flags.add(name);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new InputError(`option --${name} needs a value`);
    out.options.set(name, [...(out.options.get(name) ?? []), value]);
    i++;
  }
  return out;
}

export function option(args: ParsedArgs, name: string): string | undefined {
  const values = args.options.get(name);
  return values?.[values.length - 1];
}

/** Refuses options the command does not have (a typo must not be silently ignored). */
export function checkKnownOptions(args: ParsedArgs, command: string, known: readonly string[]): void {
  for (const name of args.options.keys()) if (!known.includes(name)) throw new InputError(`${command} has no option --${name}`);
}

/**
 * A numeric option (the last given), undefined when absent. InputError unless a number ≥ `min`
 * (or > `above`), whole unless `integer: false`.
 */
export function numberOption(args: ParsedArgs, name: string, rule: { min?: number; above?: number; integer?: boolean }): number | undefined {
  const raw = option(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const whole = rule.integer !== false;
  const inRange = (rule.min === undefined || value >= rule.min) && (rule.above === undefined || value > rule.above);
  if (raw.trim() === '' || !Number.isFinite(value) || !inRange || (whole && !Number.isInteger(value))) {
    const bound = rule.above !== undefined ? `> ${rule.above}` : `≥ ${rule.min}`;
    throw new InputError(`--${name} must be ${whole ? 'a whole number' : 'a number'} ${bound}, not ${raw}`);
  }
  return value;
}
