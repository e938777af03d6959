// Stand in for node: modules in the browser benchmark pages (vite.gpu-browser.config.ts): the
// modules the pages share with Node import them for file reading and PNG decoding the pages never do.
const nowhere = (): never => {
  throw new Error('no Node file system or zlib in the browser page');
};
export const readFile = nowhere;
// src/platform/node/files.ts (the CLI's y4m reader reads through it; the pages parse clips in memory)
export const open = nowhere;
export const stat = nowhere;
export const writeFile = nowhere;
export const inflateSync = nowhere;
