/**
 * Persistent storage for this origin. By default the browser may evict an origin's storage (OPFS
 * saved memories, the K/V spill, the model download cache) under storage pressure, silently;
 * `navigator.storage.persist()` asks it not to. It exists only on the page (not in workers), and
 * browsers decide by their own rules (Chrome: site engagement, an installed app, bookmarks;
 * Firefox: a prompt), so the answer is reported rather than assumed.
 */
export interface StoragePersistence {
  /** The browser offers navigator.storage.persist() here. */
  available: boolean;
  /** The storage is persistent (granted now or before); false: the browser refused; null: not asked (unavailable). */
  persisted: boolean | null;
}

export async function requestPersistentStorage(): Promise<StoragePersistence> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (typeof storage?.persist !== 'function') return { available: false, persisted: null };
  try {
    // already persistent: asking again could prompt (Firefox) for nothing
    if (typeof storage.persisted === 'function' && (await storage.persisted())) return { available: true, persisted: true };
    return { available: true, persisted: await storage.persist() };
  } catch {
    return { available: true, persisted: false };
  }
}
