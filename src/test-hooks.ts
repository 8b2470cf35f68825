/**
 * Every test hook on `window` (window.__subjectStudio, window.__maskEditor).
 * main.tsx loads this module only when import.meta.env.VITE_TEST_HOOKS is set
 * (vite.config.ts: the dev server and `npm run build`, which the end-to-end
 * tests serve); `npm run build:release` leaves it, and every hook, out.
 */
import { installTestHook } from './engine-client/test-hook';
import { installMaskTestHook } from './features/mask/test-hook';

export function installTestHooks(target: Window): void {
  installTestHook(target);
  installMaskTestHook(target);
}
