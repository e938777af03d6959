import { existsSync } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { createHash } from 'node:crypto';
import { basename, dirname, join, relative } from 'node:path';
import { ModelLoadError } from '../../errors';
import { readBody, type FileReadOptions, type ModelSource } from '../../model/source';
import { FsSource } from './fs-source';

/**
 * A Hugging Face hub repository read through the huggingface_hub cache, the layout the Python
 * library and `huggingface-cli download` share, so a model downloaded by either is found by the
 * other:
 *
 *   $HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default ~/.cache/huggingface)
 *     models--<owner>--<name>/
 *       blobs/<etag>                     the file's bytes, named by the hub's ETag
 *       snapshots/<commit>/<file>        a relative symlink to ../../blobs/<etag> (a copy where
 *                                        symlinks fail)
 *       refs/<revision>                  the commit the revision (branch, tag) pointed to
 *       .no_exist/<commit>/<file>        an empty marker: the repository has no such file
 *
 * Online, each file is looked up with a HEAD request (`X-Repo-Commit`, `X-Linked-Etag` / `ETag`)
 * and downloaded only when its blob is not cached; the first answer's commit pins the rest of the
 * load, so a branch moving mid-load cannot mix two versions. Offline (HF_HUB_OFFLINE=1, or the hub
 * unreachable) files come from the cached snapshot of the revision. HF_ENDPOINT replaces the hub's
 * address (a mirror, or a test server); HF_TOKEN is sent for private or gated repositories.
 */

export interface HubRepo {
  /** `owner/name`. */
  repo: string;
  /** Branch, tag or commit; default `main`. */
  revision: string;
}

/** huggingface_hub's cache folder: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  const home = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  return join(home, 'hub');
}

/** The hub's address: HF_ENDPOINT or https://huggingface.co, without a trailing slash. */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

const isTrue = (v: string | undefined) => !!v && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
const COMMIT = /^[0-9a-f]{40}$/;

/** The hub's ETag as a blob name: without W/ and quotes. */
function etagOf(headers: Headers): string | null {
  const raw = headers.get('x-linked-etag') ?? headers.get('etag');
  return raw ? raw.replace(/^W\//, '').replace(/"/g, '').trim() || null : null;
}

export class HubCacheSource implements ModelSource {
  readonly location: string;
  /** models--owner--name under the cache. */
  readonly repoDir: string;
  private readonly endpoint: string;
  /** The commit this load reads, once known. */
  private commit: string | null;
  /** Set once the hub was found unreachable (or HF_HUB_OFFLINE): the rest of the load is from the cache. */
  private offline: boolean;
  private offlineCause: unknown = null;

  constructor(
    readonly ref: HubRepo,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly fetchImpl: typeof fetch = (...a) => fetch(...a),
  ) {
    this.endpoint = hubEndpoint(env);
    this.repoDir = join(hubCacheDir(env), `models--${ref.repo.replace('/', '--')}`);
    this.location = `${ref.repo}@${ref.revision} (${this.endpoint}, cached in ${this.repoDir})`;
    this.commit = COMMIT.test(ref.revision) ? ref.revision : null;
    this.offline = isTrue(env.HF_HUB_OFFLINE);
  }

  /** Whether this load ran from the cache alone (so far). */
  get fromCacheOnly(): boolean {
    return this.offline;
  }

  async bytes(name: string, options: FileReadOptions = {}): Promise<Uint8Array | null> {
    if (!this.offline) {
      const online = await this.online(name, options);
      if (online !== 'unreachable') return online;
    }
    return this.cached(name, options);
  }

  private url(name: string, revision: string): string {
    return `${this.endpoint}/${this.ref.repo}/resolve/${encodeURIComponent(revision)}/${name.split('/').map(encodeURIComponent).join('/')}`;
  }

  private headers(): HeadersInit {
    return this.env.HF_TOKEN ? { authorization: `Bearer ${this.env.HF_TOKEN}` } : {};
  }

  /** The file through the hub (and into the cache); 'unreachable' when the network fails. */
  private async online(name: string, options: FileReadOptions): Promise<Uint8Array | null | 'unreachable'> {
    const url = this.url(name, this.commit ?? this.ref.revision);
    let head: Response;
    try {
      head = await this.fetchImpl(url, { method: 'HEAD', redirect: 'manual', headers: this.headers() });
    } catch (cause) {
      this.offline = true;
      this.offlineCause = cause;
      return 'unreachable';
    }
    const commit = head.headers.get('x-repo-commit');
    if (commit && COMMIT.test(commit) && !this.commit) {
      this.commit = commit;
      if (commit !== this.ref.revision) await this.writeRef(commit);
    }
    if (head.status === 404) {
      // a missing file of a found repository (or a missing repository: then config.json, read first, says so)
      if (head.headers.get('x-error-code') === 'RepoNotFound' || !commit) {
        if (name === 'config.json') throw new ModelLoadError(name, `the hub has no repository ${this.ref.repo} at revision ${this.ref.revision} (${this.endpoint}); check the id (there is no folder of that name here either)`);
        return null;
      }
      await this.mark(join('.no_exist', commit, name));
      return null;
    }
    if (head.status === 401 || head.status === 403) {
      throw new ModelLoadError(name, `the hub refused access to ${this.ref.repo} (HTTP ${head.status}): a private or gated repository needs HF_TOKEN set to a token that may read it`);
    }
    if (head.status >= 400) throw new ModelLoadError(name, `HTTP ${head.status} from ${this.endpoint} for ${this.ref.repo}@${this.ref.revision}`);
    const etag = etagOf(head.headers);
    if (!this.commit || !etag) throw new ModelLoadError(name, `${this.endpoint} did not answer as a Hugging Face hub (no X-Repo-Commit or ETag header)`);
    const blob = join(this.repoDir, 'blobs', etag);
    if (!existsSync(blob)) await this.download(name, url, blob, options);
    await this.link(join(this.repoDir, 'snapshots', this.commit, name), blob);
    return this.readSnapshot(name, options);
  }

  /** GET into blobs/<etag>.incomplete, renamed when whole: an interrupted download leaves no blob. */
  private async download(name: string, url: string, blob: string, options: FileReadOptions): Promise<void> {
    let response: Response;
    try {
      response = await this.fetchImpl(url, { headers: this.headers() });
    } catch (cause) {
      throw new ModelLoadError(name, `download from ${this.endpoint} failed (network error); try again`, { cause });
    }
    if (!response.ok) throw new ModelLoadError(name, `HTTP ${response.status} downloading from ${this.endpoint}`);
    await mkdir(dirname(blob), { recursive: true });
    // one side file per process: two loads of the same model at once each write their own, and the
    // rename (atomic) makes the blob whole either way
    const partial = `${blob}.${process.pid}.incomplete`;
    const file = await open(partial, 'w');
    // an LFS file's ETag is its sha256: checked, so a corrupted download never becomes a blob
    const sha256 = /^[0-9a-f]{64}$/.test(basename(blob)) ? createHash('sha256') : null;
    try {
      await readBody(response, name, this.endpoint, {
        onBytes: options.onBytes,
        fromCache: false,
        tap: async (chunk) => {
          sha256?.update(chunk);
          await file.write(chunk);
        },
      });
      if (sha256 && sha256.digest('hex') !== basename(blob)) throw new ModelLoadError(name, `the bytes downloaded from ${this.endpoint} do not match the hub's sha256; try again`);
    } catch (e) {
      await file.close();
      await rm(partial, { force: true });
      throw e;
    }
    await file.close();
    await rename(partial, blob);
  }

  /** snapshots/<commit>/<file> → ../../blobs/<etag>, relative (the cache can move), a copy where links fail. */
  private async link(path: string, blob: string): Promise<void> {
    if (existsSync(path)) return;
    await mkdir(dirname(path), { recursive: true });
    try {
      await symlink(relative(dirname(path), blob), path);
    } catch {
      await copyFile(blob, path);
    }
  }

  private async writeRef(commit: string): Promise<void> {
    const ref = join(this.repoDir, 'refs', this.ref.revision);
    await mkdir(dirname(ref), { recursive: true });
    await writeFile(ref, commit);
  }

  private async mark(path: string): Promise<void> {
    const full = join(this.repoDir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, '');
  }

  private readSnapshot(name: string, options: FileReadOptions): Promise<Uint8Array | null> {
    const snapshot = new FsSource(join(this.repoDir, 'snapshots', this.commit!));
    // progress from disk counts as from the cache
    return snapshot.bytes(name, { onBytes: options.onBytes && ((loaded, total) => options.onBytes!(loaded, total, true)) });
  }

  /** The file from the cached snapshot of the revision, for a load without the hub. */
  private async cached(name: string, options: FileReadOptions): Promise<Uint8Array | null> {
    const why = this.offlineCause ? `${this.endpoint} is unreachable` : 'HF_HUB_OFFLINE is set';
    if (!this.commit) {
      const commit = await readFile(join(this.repoDir, 'refs', this.ref.revision), 'utf8').then((s) => s.trim(), () => null);
      if (!commit) throw new ModelLoadError(name, `${why} and ${this.ref.repo}@${this.ref.revision} is not in the hub cache (${this.repoDir}); connect once to download it`, { cause: this.offlineCause });
      this.commit = commit;
    }
    const bytes = await this.readSnapshot(name, options);
    if (bytes) return bytes;
    const noExist = await stat(join(this.repoDir, '.no_exist', this.commit, name)).then(() => true, () => false);
    if (noExist) return null;
    throw new ModelLoadError(name, `${why} and the hub cache has no ${name} of ${this.ref.repo} at ${this.commit.slice(0, 12)} (${this.repoDir}); connect once to download it`, { cause: this.offlineCause });
  }
}
