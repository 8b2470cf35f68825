/**
 * Engine recovery: when the worker dies (a crash, or a lost GPU device that
 * leaves it unable to run anything), a fresh worker is started on the same
 * backend and pack. Nothing the user made is at risk: subjects, prompt,
 * settings and gallery live in the stores and IndexedDB, not in the worker.
 *
 * Module state, not React state: a crash can be noticed from several places
 * at once (the worker's error event, the failed generate() call, the status
 * poll) and must lead to exactly one restart.
 */
import { errorText } from '../../app/format';
import { EngineCrashedError, errorCode, probeEngine } from '../../engine-client/engine';
import { useGenerationStore } from '../../state/generation-store';
import { useStudioStore } from '../../state/studio-store';

/** Restarts the engine on the current backend and pack (bound by the React side, which owns the query cache). */
type Restarter = () => Promise<void>;

let restarter: Restarter | null = null;
let inFlight: Promise<boolean> | null = null;
const recentRestarts: number[] = [];

/** More restarts than this within RESTART_WINDOW_MS means restarting does not help: stop and say so. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

export function setRestarter(fn: Restarter | null): void {
  restarter = fn;
}

/** The restart under way, if any (a generation request waits for it). */
export function recoveryInFlight(): Promise<boolean> | null {
  return inFlight;
}

/** Why a failed call means the engine is gone, or null when it failed for another reason. */
export function crashReason(e: unknown): string | null {
  if (e instanceof EngineCrashedError) return e.message;
  return errorCode(e) === 'device-lost' ? errorText(e) : null;
}

/**
 * After a generation failed for a reason that does not name a crash: is the
 * engine still there? A worker that no longer answers, or reports a lost
 * device, is not coming back by itself.
 */
export async function deadEngineReason(): Promise<string | null> {
  const status = await probeEngine(2000);
  if (!status) return 'the engine worker stopped answering';
  return status.deviceLost ? `the GPU device was lost: ${status.deviceLost}` : null;
}

/** Restarts the engine once, however many places noticed the crash; resolves true when it works again. */
export function recoverEngine(reason: string): Promise<boolean> {
  if (inFlight) return inFlight;
  const { setRecovery } = useGenerationStore.getState().actions;
  const now = Date.now();
  while (recentRestarts.length && now - recentRestarts[0]! > RESTART_WINDOW_MS) recentRestarts.shift();
  if (recentRestarts.length >= MAX_RESTARTS) {
    setRecovery({ phase: 'failed', reason, error: `it stopped ${MAX_RESTARTS} times within a minute, so it was not restarted again` });
    return Promise.resolve(false);
  }
  recentRestarts.push(now);
  setRecovery({ phase: 'restarting', reason, error: null });
  const restart = restarter;
  inFlight = (async () => {
    try {
      if (!restart) throw new Error('the studio is not ready to restart the engine');
      await restart();
      // The app's crash banner described the dead worker; the recovery message now tells the whole story.
      useStudioStore.setState({ engineCrash: null });
      setRecovery({ phase: 'restarted', reason, error: null });
      return true;
    } catch (e) {
      setRecovery({ phase: 'failed', reason, error: errorText(e) });
      return false;
    } finally {
      inFlight = null;
    }
  })();
  return inFlight;
}
