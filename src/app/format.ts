export { formatBytes } from '../../workers/pack/bytes';

/** "err.message", without the "Error: " noise, for any thrown value. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
