import { beforeEach, describe, expect, it, vi } from 'vitest';
import { EngineCrashedError, EngineError } from '../../engine-client/engine';
import { useGenerationStore } from '../../state/generation-store';
import { useStudioStore } from '../../state/studio-store';
import { crashReason, recoverEngine, setRestarter } from './recovery';

describe('crashReason', () => {
  it('knows a dead worker and a lost GPU device from other failures', () => {
    expect(crashReason(new EngineCrashedError('the engine worker failed: boom'))).toBe('the engine worker failed: boom');
    expect(crashReason(new EngineError('device-lost', 'GPU device lost (destroyed): the engine must be restarted'))).toMatch(/GPU device lost/);
    expect(crashReason(new EngineError('bad-input', 'image 1 of @mochi could not be decoded'))).toBeNull();
    // The code decides, not the words.
    expect(crashReason(new Error('GPU device lost, says a message with no code'))).toBeNull();
  });
});

describe('recoverEngine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    useGenerationStore.getState().actions.setRecovery(null);
  });

  it('restarts once however many places noticed, says so, and clears the crash banner', async () => {
    let finish = () => {};
    const restart = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    setRestarter(restart);
    useStudioStore.getState().actions.reportEngineCrash('the engine worker failed: boom');
    const a = recoverEngine('the engine worker failed: boom');
    const b = recoverEngine('the engine worker stopped answering');
    expect(useGenerationStore.getState().recovery).toEqual({ phase: 'restarting', reason: 'the engine worker failed: boom', error: null });
    finish();
    expect(await a).toBe(true);
    expect(await b).toBe(true);
    expect(restart).toHaveBeenCalledTimes(1);
    expect(useGenerationStore.getState().recovery?.phase).toBe('restarted');
    expect(useStudioStore.getState().engineCrash).toBeNull();
  });

  it('reports a restart that fails, and stops after three within a minute', async () => {
    setRestarter(() => Promise.reject(new Error('no adapter')));
    vi.setSystemTime(120_000);
    expect(await recoverEngine('x')).toBe(false);
    expect(useGenerationStore.getState().recovery).toEqual({ phase: 'failed', reason: 'x', error: 'no adapter' });
    setRestarter(() => Promise.resolve());
    expect(await recoverEngine('x')).toBe(true);
    expect(await recoverEngine('x')).toBe(true);
    expect(await recoverEngine('x')).toBe(false);
    expect(useGenerationStore.getState().recovery?.error).toMatch(/3 times within a minute/);
    vi.setSystemTime(200_000);
    expect(await recoverEngine('x')).toBe(true);
  });
});
