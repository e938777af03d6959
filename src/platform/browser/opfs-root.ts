import { InputError } from '../../errors';

/**
 * The root of this origin's private file system (OPFS), where saved memories and the K/V spill
 * live. `missing` is the InputError's message where the context has no OPFS (an insecure page,
 * an old browser, Node), so each caller says what needed it.
 */
export async function opfsRoot(missing: string): Promise<FileSystemDirectoryHandle> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (!storage?.getDirectory) throw new InputError(missing);
  return storage.getDirectory();
}
