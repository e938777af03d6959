import { version } from '../../package.json';
import { InputError, StreamVlmError } from '../errors';
import { checkKnownOptions, checkNoPositional, option, parseArgs, type ParsedArgs } from './args';
import { askCommand, askOptions } from './ask';
import { generateCommand, generateOptions } from './generate';
import { COMMAND_HELP, USAGE, type CommandName } from './help';
import { needleCommand, needleOptions } from './needle';
import { acquireNodeGpu } from '../platform/node/node-gpu';
import { selfcheckCommand } from './selfcheck';
import { announceAdapter, terminalSafe } from './terminal-text';
import { watchCommand } from './watch';
import { watchOptions } from './watch-options';

/** Each command: its flags (options without a value) and what it runs. */
const COMMANDS: Record<CommandName, { flags: string[]; run: (args: ParsedArgs) => Promise<number> }> = {
  info: {
    flags: ['json'],
    run: async (args) => {
      checkKnownOptions(args, 'info', []);
      checkNoPositional(args);
      const gpu = await acquireNodeGpu({ onAdapter: args.flags.has('json') ? undefined : announceAdapter });
      const limits: Record<string, number> = {};
      for (const key of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) {
        limits[key] = (gpu.limits as unknown as Record<string, number>)[key];
      }
      console.log(JSON.stringify({ adapter: gpu.adapter, features: gpu.features, limits }, null, 2));
      gpu.destroy();
      return 0;
    },
  },
  selfcheck: {
    flags: ['json', 'no-f16'],
    run: async (args) => {
      checkKnownOptions(args, 'selfcheck', ['filter', 'precision']);
      checkNoPositional(args);
      const precision = option(args, 'precision');
      if (precision && precision !== 'f32' && precision !== 'f16') throw new InputError(`--precision must be f32 or f16, not ${precision}`);
      const json = args.flags.has('json');
      const gpu = await acquireNodeGpu({ disableF16: args.flags.has('no-f16'), onAdapter: json ? undefined : announceAdapter });
      const code = await selfcheckCommand(gpu, { filter: option(args, 'filter'), precision: precision as 'f32' | 'f16' | undefined, json });
      gpu.destroy();
      return code;
    },
  },
  generate: { flags: ['json'], run: (args) => generateCommand(generateOptions(args)) },
  watch: { flags: ['json'], run: (args) => watchCommand(watchOptions(args)) },
  ask: { flags: ['json'], run: (args) => askCommand(askOptions(args)) },
  needle: { flags: ['json'], run: (args) => needleCommand(needleOptions(args)) },
};

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v' || first === '-V') {
    console.log(version);
    return 0;
  }
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic && topic in COMMANDS) console.log(COMMAND_HELP[topic as CommandName]);
    else if (first === undefined) console.error(USAGE);
    else console.log(USAGE);
    return first === undefined ? 2 : 0;
  }
  if (!(first in COMMANDS)) {
    console.error(`streamvlm: unknown command '${terminalSafe(first)}' (commands: ${Object.keys(COMMANDS).join(', ')}; streamvlm --help)`);
    return 2;
  }
  const command = COMMANDS[first as CommandName];
  const args = parseArgs(rest, command.flags);
  if (args.flags.has('help')) {
    console.log(COMMAND_HELP[first as CommandName]);
    return 0;
  }
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Users get one line, not a stack trace; STREAMVLM_DEBUG=1 shows the stack.
    if (process.env.STREAMVLM_DEBUG) console.error(error);
    const e = error as Error;
    const advice = error instanceof StreamVlmError && error.advice ? ` (${error.advice})` : '';
    const line = `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}${advice}`;
    // the message may quote user input (a question, a file name): no raw control characters, one line
    console.error(`streamvlm: ${terminalSafe(line.replace(/\n/g, ' '))}`);
    process.exit(1);
  },
);
