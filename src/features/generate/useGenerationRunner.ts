/**
 * Connects the runner and the recovery (plain modules) to React: the loaded
 * pack, each new request id, the worker's crash event and the polled status
 * (a lost GPU device shows up there first).
 */
import { useEffect } from 'react';
import { onEngineCrash } from '../../engine-client/engine';
import { useEngineStatus, usePack, useRestartEngine } from '../../engine-client/queries';
import { useGenerationStore } from '../../state/generation-store';
import { useStudioStore } from '../../state/studio-store';
import { recoverEngine, setRestarter } from './recovery';
import { handleRequest, setRunnerContext } from './runner';

export interface EngineReadiness {
  /** The pack is loaded and no restart is under way. */
  ready: boolean;
  /** Why not, for the button's tooltip. */
  why: string | null;
}

export function useGenerationRunner(): EngineReadiness {
  const backend = useStudioStore((s) => s.backendPreference);
  const packUrl = useStudioStore((s) => s.packUrl);
  // Observes the app's pack query (App owns loading it).
  const pack = usePack(backend, packUrl, false);
  const status = useEngineStatus(pack.isSuccess);
  const restart = useRestartEngine();
  const recovery = useGenerationStore((s) => s.recovery);

  const name = pack.data?.name ?? null;
  const version = pack.data?.version ?? null;
  useEffect(() => {
    setRunnerContext({ pack: name !== null && version !== null ? { name, version } : null });
  }, [name, version]);

  useEffect(() => {
    setRestarter(() => restart(backend, packUrl));
    return () => setRestarter(null);
  }, [restart, backend, packUrl]);

  // Every new request id starts a run; subscribing (not an effect on the id) sees each one exactly once.
  useEffect(
    () =>
      useGenerationStore.subscribe((s, prev) => {
        if (s.requestId !== prev.requestId) handleRequest(s.requestId);
      }),
    [],
  );

  // Only a crash of an engine that worked is restarted: one that never loaded (App shows its error) would fail again.
  const loaded = pack.isSuccess;
  useEffect(() => (loaded ? onEngineCrash((message) => void recoverEngine(message)) : undefined), [loaded]);

  const deviceLost = status.data?.deviceLost ?? null;
  useEffect(() => {
    if (deviceLost) void recoverEngine(`the GPU device was lost: ${deviceLost}`);
  }, [deviceLost]);

  if (recovery?.phase === 'restarting') return { ready: false, why: 'The engine is restarting.' };
  if (pack.isError) return { ready: false, why: 'The model pack could not be loaded (see the status line).' };
  if (!pack.data) return { ready: false, why: 'The model pack is still loading.' };
  return { ready: true, why: null };
}
