import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { constants, homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Dawn on Linux reaches the GPU through the Vulkan loader, which it opens by name
 * (`dlopen("libvulkan.so.1")`). A machine may have no system loader yet carry one inside a
 * Chromium-family browser (Debian's /usr/lib/chromium, Google Chrome, Playwright's Chromium), next
 * to SwiftShader, a CPU Vulkan driver. LD_LIBRARY_PATH cannot help once Node is running (the dynamic
 * linker reads it at start-up), so the loader is loaded here by its path and kept resident: a later
 * dlopen by name then finds the library already loaded, by its soname.
 */

export interface VulkanLoader {
  /** Where the loader came from: 'system' or the browser folder that holds it. */
  from: string;
  /** SwiftShader's ICD manifest beside it, when the folder has one (the software fallback). */
  swiftshaderIcd: string | null;
}

const SONAME = 'libvulkan.so.1';
/** glibc's RTLD_NODELETE (Node's os.constants.dlopen does not list it): keep the library after dlclose. */
const RTLD_NODELETE = 0x1000;

/** Browser folders that ship a Vulkan loader and SwiftShader, most usual first. */
export function browserVulkanFolders(): string[] {
  const folders = ['/usr/lib/chromium', '/usr/lib/chromium-browser', '/opt/google/chrome', '/opt/google/chrome-beta', '/opt/microsoft/msedge'];
  // Playwright's own Chromium (`npx playwright install chromium`)
  const playwright = process.env.PLAYWRIGHT_BROWSERS_PATH || join(homedir(), '.cache', 'ms-playwright');
  try {
    for (const name of readdirSync(playwright).sort().reverse()) {
      if (name.startsWith('chromium')) folders.push(join(playwright, name, 'chrome-linux'), join(playwright, name, 'chrome-linux64'));
    }
  } catch {
    // no Playwright browsers
  }
  return folders;
}

function loaderIsResident(): boolean {
  try {
    return readFileSync('/proc/self/maps', 'utf8').includes(`/${SONAME}`);
  } catch {
    return false;
  }
}

/**
 * Loads a shared library by name or path and keeps it resident. process.dlopen is Node's only way
 * to load a library; it expects an addon and throws "did not self-register" for any other library,
 * after which RTLD_NODELETE keeps the library mapped. Whether it worked is read from the process's
 * own memory map, not from the error.
 */
function preload(nameOrPath: string): boolean {
  const { RTLD_NOW, RTLD_GLOBAL } = constants.dlopen as { RTLD_NOW: number; RTLD_GLOBAL: number };
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, nameOrPath, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
  } catch {
    // expected: a Vulkan loader is not a Node addon
  }
  return loaderIsResident();
}

/**
 * Makes a Vulkan loader available to Dawn: the system's when the dynamic linker finds one, else the
 * first browser folder's. null when there is none (Dawn will then find no Vulkan adapter). Linux
 * only; elsewhere Dawn uses Metal or Direct3D and this returns null without looking.
 */
export function findVulkanLoader(folders: readonly string[] = browserVulkanFolders()): VulkanLoader | null {
  if (process.platform !== 'linux') return null;
  if (loaderIsResident() || preload(SONAME)) return { from: 'system', swiftshaderIcd: firstSwiftShader(folders) };
  for (const folder of folders) {
    const loader = join(folder, SONAME);
    if (existsSync(loader) && preload(loader)) return { from: folder, swiftshaderIcd: swiftshaderIn(folder) };
  }
  return null;
}

function swiftshaderIn(folder: string): string | null {
  const icd = join(folder, 'vk_swiftshader_icd.json');
  return existsSync(icd) ? icd : null;
}

function firstSwiftShader(folders: readonly string[]): string | null {
  for (const folder of folders) {
    const icd = swiftshaderIn(folder);
    if (icd) return icd;
  }
  return null;
}
