import { Template } from '@huggingface/jinja';
import { InputError, ModelLoadError } from '../errors';
import { LIMITS } from '../limits';
import { renderBounded } from './bounded-template';
import { parseJsonObject } from './json-file';

/**
 * SmolVLM chat templating with @huggingface/jinja. The model folder's template (chat_template.jinja,
 * or `chat_template` inside chat_template.json / tokenizer_config.json / processor_config.json) is
 * used for text and image conversations; as SmolVLMProcessor.apply_chat_template does, a
 * conversation with a video is rendered with transformers' DEFAULT_CHAT_TEMPLATE, whose video
 * branch writes the `<video>` placeholder (the hub templates have no video branch).
 */
export const DEFAULT_CHAT_TEMPLATE =
  "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% elif line['type'] == 'video' %}{{ '<video>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

export type ChatContent = { type: 'text'; text: string } | { type: 'image' } | { type: 'video' };

export interface ChatMessage {
  role: 'user' | 'assistant' | 'system' | (string & {});
  /** A plain string is taken as one text item. */
  content: ChatContent[] | string;
}

/** The template texts a model folder may carry; pass the ones found. */
export interface ChatTemplateSources {
  /** chat_template.jinja (transformers 5). */
  chatTemplateJinja?: string;
  /** chat_template.json (transformers 4 processors): `{"chat_template": "..."}`. */
  chatTemplateJson?: string;
  /** processor_config.json text. */
  processorConfig?: string;
  /** tokenizer_config.json text. */
  tokenizerConfig?: string;
}

/**
 * A template longer than any real one is refused before it is parsed (parsing is linear, rendering is
 * not). So is an indent width (the `indent` filter, `tojson(indent=…)`) that is not a small literal:
 * the library builds that many spaces in one step, before any render bound can look at the result.
 */
function sized(file: string, template: string): string {
  if (template.length > LIMITS.templateChars) throw new ModelLoadError(file, `chat template of ${template.length} characters, more than the ${LIMITS.templateChars} this runtime reads`);
  for (const m of template.matchAll(/\bindent\s*(?:\(\s*|=\s*)([^,)\s]*)/g)) {
    if (!/^\d{1,2}$/.test(m[1])) throw new ModelLoadError(file, `chat template indents by ${JSON.stringify(m[1].slice(0, 20))}; only a literal width up to 99 is accepted`);
  }
  return template;
}

function templateIn(file: string, text: string): string | undefined {
  const t = parseJsonObject(file, text).chat_template;
  if (t === undefined || t === null) return undefined;
  if (typeof t === 'string') return sized(file, t);
  // tokenizer_config.json may hold named templates: [{name, template}]; take "default".
  if (Array.isArray(t)) {
    const named = t.find((x) => x && typeof x === 'object' && (x as Record<string, unknown>).name === 'default') as Record<string, unknown> | undefined;
    if (named && typeof named.template === 'string') return sized(file, named.template);
  }
  throw new ModelLoadError(file, 'chat_template must be a string (or a list with a "default" entry)');
}

/**
 * The model's chat template, by transformers' precedence: chat_template.jinja, chat_template.json,
 * processor_config.json, tokenizer_config.json. Undefined when none has one (then the default is used).
 */
export function findChatTemplate(sources: ChatTemplateSources): string | undefined {
  if (sources.chatTemplateJinja !== undefined && sources.chatTemplateJinja.trim() !== '') return sized('chat_template.jinja', sources.chatTemplateJinja);
  if (sources.chatTemplateJson !== undefined) {
    const t = templateIn('chat_template.json', sources.chatTemplateJson);
    if (t !== undefined) return t;
  }
  if (sources.processorConfig !== undefined) {
    const t = templateIn('processor_config.json', sources.processorConfig);
    if (t !== undefined) return t;
  }
  if (sources.tokenizerConfig !== undefined) {
    const t = templateIn('tokenizer_config.json', sources.tokenizerConfig);
    if (t !== undefined) return t;
  }
  return undefined;
}

function normalize(messages: readonly ChatMessage[]): { role: string; content: ChatContent[] }[] {
  if (!Array.isArray(messages) || messages.length === 0) throw new InputError('a conversation needs at least one message');
  return messages.map((m, i) => {
    if (!m || typeof m.role !== 'string') throw new InputError(`message ${i} has no role`);
    const content = typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content;
    if (!Array.isArray(content) || content.length === 0) throw new InputError(`message ${i} has no content`);
    for (const item of content) {
      if (!item || (item.type !== 'text' && item.type !== 'image' && item.type !== 'video')) {
        throw new InputError(`message ${i}: content items must be {type: 'text' | 'image' | 'video'}`);
      }
      if (item.type === 'text' && typeof item.text !== 'string') throw new InputError(`message ${i}: a text item needs a string text`);
    }
    return { role: m.role, content };
  });
}

const compiled = new Map<string, Template>();

function compile(source: string): Template {
  let t = compiled.get(source);
  if (!t) {
    sized('chat_template', source);
    try {
      t = new Template(source);
    } catch (cause) {
      throw new ModelLoadError('chat_template', `could not be parsed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    compiled.set(source, t);
  }
  return t;
}

export interface RenderOptions {
  addGenerationPrompt?: boolean;
  /** Extra template variables (bos_token, eos_token, …); SmolVLM's templates use none. */
  variables?: Record<string, unknown>;
}

/**
 * Renders a conversation to the prompt text (placeholders `<image>` / `<video>` not yet expanded).
 * `template` is the model's template (findChatTemplate); undefined → DEFAULT_CHAT_TEMPLATE.
 */
export function renderChat(template: string | undefined, messages: readonly ChatMessage[], options: RenderOptions = {}): string {
  const msgs = normalize(messages);
  const hasVideo = msgs.some((m) => m.content.some((c) => c.type === 'video'));
  const source = hasVideo || template === undefined ? DEFAULT_CHAT_TEMPLATE : template;
  try {
    return renderBounded(compile(source), { ...options.variables, messages: msgs, add_generation_prompt: options.addGenerationPrompt ?? true });
  } catch (cause) {
    if (cause instanceof ModelLoadError) throw cause;
    // a stack overflow (a macro calling itself) is the template's fault, not the conversation's
    if (cause instanceof RangeError) throw new ModelLoadError('chat_template', `could not be rendered: ${cause.message}`, { cause });
    throw new InputError(`the chat template failed on this conversation: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/**
 * Checks a model's template when the model loads: it parses, and renders a conversation like the
 * ones the runtime sends (an image and a question) within the bounds renderBounded sets. A template
 * that loops, grows or recurses without bound is then a ModelLoadError at load, in seconds, not a
 * stall at the first question. (Later renders keep the same bounds, for branches this one skips.)
 */
export function checkChatTemplate(template: string | undefined): void {
  if (template === undefined) return;
  try {
    renderChat(template, [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What is in the picture?' }] }]);
  } catch (cause) {
    if (cause instanceof ModelLoadError) throw cause;
    throw new ModelLoadError('chat_template', `fails on a plain question: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
