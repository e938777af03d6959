import { InputError } from '../errors';

/** `--name value`, `--name=value`, `--flag` and positional arguments; repeated options collect into arrays. */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

/** Flags every command takes: `--help` (or `-h`) prints the command's help instead of running it. */
const COMMON_FLAGS = ['help'];
const SHORT_FLAGS: Record<string, string> = { '-h': 'help' };

export function parseArgs(argv: readonly string[], flagNames: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positional: [], options: new Map(), flags: new Set() };
  const flags = [...COMMON_FLAGS, ...flagNames];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (SHORT_FLAGS[arg]) {
      out.flags.add(SHORT_FLAGS[arg]);
      continue;
    }
    if (!arg.startsWith('--')) {
      // `-x`: a short option this CLI does not have (a negative number is a value, taken below)
      if (/^-[^-\d.]/.test(arg)) throw new InputError(`unknown option ${arg}`);
      out.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (flags.includes(name)) {
      if (eq >= 0) throw new InputError(`--${name} takes no value`);
      out.flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--') || SHORT_FLAGS[value]) throw new InputError(`option --${name} needs a value`);
      i++;
    }
    out.options.set(name, [...(out.options.get(name) ?? []), value]);
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

/** Refuses positional arguments where a command takes none. */
export function checkNoPositional(args: ParsedArgs): void {
  if (args.positional.length > 0) throw new InputError(`unexpected argument '${args.positional[0]}'`);
}

/**
 * A numeric option (the last given), undefined when absent. InputError unless a number ≥ `min`
 * (or > `above`), whole unless `integer: false`. For the CLI's own options; those the SDK also
 * takes are checked by the SDK's rules (./sdk-options.ts).
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
