import { InputError } from '../errors';

/** Where hub ids resolve: the Hugging Face Hub's file endpoint. */
export const HUB_URL = 'https://huggingface.co/';

/**
 * `owner/name` or `owner/name@revision`: exactly one slash, no scheme, not starting with `.` or `/`
 * (so `./models/x`, `/models/x/` and `models/x/` stay relative URLs of a folder on this site).
 */
const HUB_ID = /^([A-Za-z0-9][\w.-]*)\/([\w.-]+?)(?:@([\w./-]+))?$/;

/** A hub id's repository (`owner/name`) and revision (default `main`); null when `model` is not a hub id. */
export function parseHubId(model: string): { repo: string; revision: string } | null {
  const hub = HUB_ID.exec(model);
  if (!hub || model.endsWith('/')) return null;
  const [, owner, name, revision] = hub;
  return { repo: `${owner}/${name}`, revision: revision || 'main' };
}

/**
 * The model folder URL (ending in `/`) for what the user passed to `StreamVLM.load`: a hub id
 * (→ `https://huggingface.co/owner/name/resolve/<revision or main>/`) or any absolute or relative
 * URL of a folder, resolved against `base` (the page).
 */
export function resolveModelUrl(model: string, base: string | undefined = globalThis.location?.href): string {
  if (typeof model !== 'string' || model.trim() === '') {
    throw new InputError("StreamVLM.load: pass a model: a hub id like 'HuggingFaceTB/SmolVLM2-256M-Video-Instruct' or the URL of a model folder");
  }
  const trimmed = model.trim();
  const hub = parseHubId(trimmed);
  if (hub) return `${HUB_URL}${hub.repo}/resolve/${encodeURIComponent(hub.revision)}/`;
  let url: URL;
  try {
    url = new URL(trimmed, base);
  } catch {
    throw new InputError(`StreamVLM.load: "${trimmed}" is neither a hub id (owner/name) nor a URL${base ? '' : ' (relative URLs need a page to resolve against)'}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(`StreamVLM.load: a model URL must be http(s), not ${url.protocol}`);
  }
  // a folder: files are resolved against it, so it must end in '/'
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url.href;
}
