/** The runner with a fake engine: one run per request, newer requests cancel older runs, outcomes reach the store. */
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { EngineError } from '../../../workers/errors';
import type { GenerateInput, GenerateOutput, GenerateProgress } from '../../engine-client/engine';
import { useGenerationStore } from '../../state/generation-store';
import { usePromptStore } from '../../state/prompt-store';
import { useSettingsStore } from '../../state/settings-store';

interface FakeRun {
  input: GenerateInput;
  progress(p: GenerateProgress): void;
  resolve(out: GenerateOutput): void;
  reject(e: Error): void;
}
const runs: FakeRun[] = [];
const cancel = vi.fn(async () => {
  // Like the worker: the running generation ends with a CancelledError.
  const run = runs.at(-1);
  run?.reject(new EngineError('cancelled', 'cancelled at step 1', { details: { atStep: 1 } }));
  return run !== undefined;
});

vi.mock('../../engine-client/engine', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  generate: (input: GenerateInput, progress: (p: GenerateProgress) => void) =>
    new Promise<GenerateOutput>((resolve, reject) => runs.push({ input, progress, resolve, reject })),
  cancelGeneration: () => cancel(),
  probeEngine: async () => ({ deviceLost: null }),
}));
const saveResult = vi.fn(async () => ({ id: 'entry-1' }));
vi.mock('../gallery/gallery-io', () => ({ saveResult: (...args: unknown[]) => saveResult(...(args as [])) }));

const { handleRequest, setRunnerContext } = await import('./runner');

const output = (): GenerateOutput => ({ width: 2, height: 1, rgba: new Uint8ClampedArray(8), timings: { totalMs: 1, sessionMs: 1, stepMs: [1] }, graphRuns: {}, truncatedText: null, unknownNames: [] });
const tick = () => new Promise((r) => setTimeout(r, 0));
const state = () => useGenerationStore.getState();

function request(): number {
  state().actions.requestGenerate('test');
  const id = state().requestId;
  handleRequest(id);
  return id;
}

describe('the generation runner', () => {
  beforeEach(() => {
    runs.length = 0;
    cancel.mockClear();
    saveResult.mockClear();
    vi.stubGlobal('requestAnimationFrame', (cb: () => void) => setTimeout(cb, 0) as unknown as number);
    vi.stubGlobal('cancelAnimationFrame', (h: number) => clearTimeout(h));
    setRunnerContext({ pack: { name: 'test-pack', version: '1' } });
    usePromptStore.getState().actions.setPrompt('a red mug');
    useSettingsStore.getState().actions.patch({ steps: 4, seed: 7, randomSeed: false });
    useGenerationStore.setState({ running: false, error: null, notice: null, result: null, progress: null });
  });

  it('runs a request with the stores’ prompt and settings, shows progress, and saves the image', async () => {
    request();
    await vi.waitFor(() => expect(runs).toHaveLength(1));
    expect(runs[0]!.input).toMatchObject({ prompt: 'a red mug', steps: 4, seed: 7, subjects: [], previewEvery: 1 });
    expect(state().running).toBe(true);
    runs[0]!.progress({ kind: 'step', step: 1, steps: 4, elapsedMs: 10, preview: null });
    await vi.waitFor(() => expect(state().progress).toMatchObject({ kind: 'step', step: 1 }));
    runs[0]!.resolve(output());
    await vi.waitFor(() => expect(state().running).toBe(false));
    expect(saveResult).toHaveBeenCalledTimes(1);
    expect(saveResult.mock.calls[0]).toMatchObject([{ width: 2 }, { prompt: 'a red mug', seed: 7, pack: { name: 'test-pack' } }, expect.any(Number)]);
    expect(state().result).toMatchObject({ seed: 7, galleryId: 'entry-1' });
    expect(state().error).toBeNull();
  });

  it('records the seed it rolled when seeds are random', async () => {
    useSettingsStore.getState().actions.patch({ randomSeed: true });
    request();
    await vi.waitFor(() => expect(runs).toHaveLength(1));
    expect(runs[0]!.input.seed).toBe(useSettingsStore.getState().settings.seed);
    runs[0]!.resolve(output());
    await vi.waitFor(() => expect(state().running).toBe(false));
    expect(state().result?.seed).toBe(runs[0]!.input.seed);
  });

  it('cancels the running generation for a newer request, and skips requests overtaken while waiting', async () => {
    request();
    await vi.waitFor(() => expect(runs).toHaveLength(1));
    request();
    request();
    await vi.waitFor(() => expect(runs).toHaveLength(2));
    await tick();
    expect(runs).toHaveLength(2);
    expect(cancel).toHaveBeenCalled();
    // The cancelled run says nothing: the newest one owns the panel.
    expect(state().notice).toBeNull();
    runs[1]!.resolve(output());
    await vi.waitFor(() => expect(state().running).toBe(false));
    expect(saveResult).toHaveBeenCalledTimes(1);
  });

  it('stops before running when the prompt is empty', async () => {
    usePromptStore.getState().actions.setPrompt('');
    request();
    await vi.waitFor(() => expect(state().error).toMatch(/^Write a prompt first/));
    expect(runs).toHaveLength(0);
  });

  it('reports an engine error in words, and a cancel as a notice', async () => {
    request();
    await vi.waitFor(() => expect(runs).toHaveLength(1));
    runs[0]!.reject(new Error('image 1 of @mochi could not be decoded'));
    await vi.waitFor(() => expect(state().error).toBe('Generation failed: image 1 of @mochi could not be decoded'));
    request();
    await vi.waitFor(() => expect(runs).toHaveLength(2));
    runs[1]!.progress({ kind: 'step', step: 2, steps: 4, elapsedMs: 10, preview: null });
    await cancel();
    await vi.waitFor(() => expect(state().notice).toBe('Cancelled after step 2 of 4.'));
    expect(state().error).toBeNull();
    expect(saveResult).not.toHaveBeenCalled();
  });
});
