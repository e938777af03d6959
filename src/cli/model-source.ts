import { UrlSource, type ModelSource } from '../model/source';
import { parseHubId } from '../sdk/model-url';
import { FsSource } from '../platform/node/fs-source';
import { pathExists } from '../platform/node/files';
import { HubCacheSource } from '../platform/node/hub-cache';

/**
 * `--model`: an http(s) URL (Node's fetch), a local folder, or a hub id as the SDK takes it
 * (`owner/name[@revision]`, read through the huggingface_hub cache). A folder that exists wins over
 * a hub id spelt the same (`models/tiny`); `./owner/name` always means a folder.
 */
export function modelSourceOf(model: string): ModelSource {
  if (/^https?:\/\//i.test(model)) return new UrlSource(model);
  if (pathExists(model)) return new FsSource(model);
  const hub = parseHubId(model);
  return hub ? new HubCacheSource(hub) : new FsSource(model);
}
