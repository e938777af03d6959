import { Environment, Interpreter, type Template } from '@huggingface/jinja';
import { ModelLoadError } from '../errors';
import { LIMITS } from '../limits';

/**
 * A template compiled by @huggingface/jinja (its Template), named structurally so the declarations
 * this module ships need no import of a library the package bundles rather than depends on.
 */
export interface CompiledTemplate {
  parsed: unknown;
}

/**
 * Renders a parsed Jinja template under bounds, so a model folder's chat template cannot stall the
 * worker or exhaust memory: a budget of interpreter steps and of wall time (a macro that calls
 * itself twice per level runs forever without ever recursing deep), of elements `range()` may make
 * in all (nested `range(100000)` loops), and of the length of any string it builds. Any of them
 * exceeded is a ModelLoadError naming the chat template: the template, not the conversation, is at
 * fault. The globals are @huggingface/jinja's own (Template.render sets them the same way), with
 * `range` replaced by the counted one.
 */
export function renderBounded(template: CompiledTemplate, variables: Record<string, unknown>): string {
  const started = Date.now();
  let steps = 0;
  let rangeElements = 0;
  const over = (what: string): never => {
    throw new ModelLoadError('chat_template', `rendering it exceeded ${what}: a template that loops or grows without bound is refused`);
  };
  const env = new Environment();
  env.set('false', false);
  env.set('true', true);
  env.set('none', null);
  env.set('False', false);
  env.set('True', true);
  env.set('None', null);
  env.set('raise_exception', (message: unknown) => {
    throw new Error(String(message));
  });
  env.set('range', (start: number, stop?: number, step = 1) => {
    if (stop === undefined) [start, stop] = [0, start];
    if (![start, stop, step].every(Number.isFinite)) throw new Error('range() takes finite numbers');
    if (step === 0) throw new Error('range() step must not be zero');
    const count = Math.max(0, Math.ceil((stop - start) / step));
    rangeElements += count;
    if (rangeElements > LIMITS.templateRangeElements) over(`${LIMITS.templateRangeElements} range() elements`);
    return Array.from({ length: count }, (_, i) => start + i * step);
  });
  for (const [key, value] of Object.entries(variables)) env.set(key, value);

  const interpreter = new Interpreter(env);
  // every node of the template goes through evaluate(): count them, watch the clock and the size of what they make
  const inner = interpreter as unknown as { evaluate(node: unknown, env: unknown): { value: unknown } };
  const evaluate = inner.evaluate.bind(interpreter);
  inner.evaluate = (node, scope) => {
    if (++steps > LIMITS.templateSteps) over(`${LIMITS.templateSteps} steps`);
    if ((steps & 1023) === 0 && Date.now() - started > LIMITS.templateMs) over(`${LIMITS.templateMs} ms`);
    const result = evaluate(node, scope);
    const value = result?.value;
    if (typeof value === 'string' && value.length > LIMITS.templateOutputChars) over(`${LIMITS.templateOutputChars} characters of text`);
    if (Array.isArray(value) && value.length > LIMITS.templateRangeElements) over(`${LIMITS.templateRangeElements} list elements`);
    return result;
  };
  const out = interpreter.run(template.parsed as Template['parsed']).value;
  return String(out);
}
