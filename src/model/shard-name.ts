import { ModelLoadError } from '../errors';

/**
 * A file name a model folder's own files (the shard index's weight_map) point to must name a file in
 * that folder: the loader joins it onto the folder's URL or path, so `../x`, `/etc/passwd`,
 * `C:\\x`, `//other.host/x` or `https://other.host/x` would read from another host in the browser
 * or anywhere on disk in the CLI. Hub shard names are plain (`model-00001-of-00002.safetensors`);
 * sub-folders are allowed, anything that could climb out, change origin or be read as a scheme is not.
 */
export function checkShardName(indexFile: string, name: unknown): string {
  const bad = (why: string): never => {
    throw new ModelLoadError(indexFile, `weight_map names the file ${JSON.stringify(String(name).slice(0, 200))}, which ${why}; shard files must be inside the model folder`);
  };
  if (typeof name !== 'string' || name.length === 0) return bad('is not a file name');
  if (name.length > 255) bad('is longer than 255 characters');
  if (!/^[A-Za-z0-9_.\-/]+$/.test(name)) bad('has characters other than letters, digits, "_", "-", "." and "/"');
  if (name.startsWith('/')) bad('is an absolute path');
  if (!name.endsWith('.safetensors')) bad('is not a .safetensors file');
  for (const part of name.split('/')) {
    if (part === '' || part === '.' || part === '..') bad('climbs out of the folder or has an empty path segment');
  }
  return name;
}
