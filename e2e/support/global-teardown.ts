import { removeBuiltLibrary } from './built-library';

// Runs in the Playwright runner once the run ends.
export default function globalTeardown(): void {
  removeBuiltLibrary();
}
