// The bench launchers' one step: run dist-node/<name>.js (a driver bundled by `npm run build:node`,
// needing only node: modules and playwright-core from PLAYWRIGHT_CORE), or say it is not built.
import { existsSync } from 'node:fs';

export async function runBuilt(name) {
  const built = new URL(`../dist-node/${name}.js`, import.meta.url);
  if (!existsSync(built)) {
    console.error(`${name}: dist-node/${name}.js is missing: run \`npm run build:node\` first`);
    process.exit(2);
  }
  await import(built.href);
}
