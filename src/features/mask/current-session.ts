/** The open mask editor's session, for the test hook (test-hook.ts) to read; the editor sets it. */
import type { MaskSession } from './session';

let current: MaskSession | null = null;

export function currentSession(): MaskSession | null {
  return current;
}

export function setCurrentSession(session: MaskSession | null): void {
  current = session;
}

export function clearCurrentSession(session: MaskSession): void {
  if (current === session) current = null;
}
