import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PACK_URL } from '../engine-client/url-params';
import { useStudioStore } from './studio-store';

const initial = useStudioStore.getState();

describe('studio store', () => {
  beforeEach(() => useStudioStore.setState(initial, true));

  it('starts on auto and the built-in test pack', () => {
    const s = useStudioStore.getState();
    expect(s.backendPreference).toBe('auto');
    expect(s.packUrl).toBe(DEFAULT_PACK_URL);
    expect(DEFAULT_PACK_URL).toBe('/packs/test');
  });

  it('applies the page URL parameters through its action', () => {
    useStudioStore.getState().actions.applyUrlParams('?backend=wasm&pack=/packs/mine');
    const s = useStudioStore.getState();
    expect(s.backendPreference).toBe('wasm');
    expect(s.packUrl).toBe('/packs/mine');
    expect(s.urlProblems).toEqual([]);
  });

  it('keeps URL problems and engine crashes for the UI', () => {
    const { actions } = useStudioStore.getState();
    actions.applyUrlParams('?backend=cuda');
    actions.reportEngineCrash('the engine worker failed: boom');
    const s = useStudioStore.getState();
    expect(s.urlProblems).toHaveLength(1);
    expect(s.engineCrash).toBe('the engine worker failed: boom');
  });
});
