import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FREQUENCY, DEFAULT_MASK_SETTINGS } from '../../../workers/generation-types';
import type { GalleryRequest } from '../../state/gallery-store';
import { usePromptStore } from '../../state/prompt-store';
import { DEFAULT_SETTINGS, useSettingsStore } from '../../state/settings-store';
import { putBlob } from '../../state/storage';
import { useSubjectsStore, type Subject } from '../../state/subjects-store';
import { parseGalleryRequest, reuseRequest } from './request';

function subject(name: string, photoIds: string[], id = `id-${name}`): Subject {
  return {
    id,
    name,
    classWord: 'cat',
    strength: 1.25,
    images: photoIds.map((p) => ({ id: p, fileName: `${p}.png`, width: 64, height: 48, mask: null })),
    maskSettings: { ...DEFAULT_MASK_SETTINGS },
    fill: 'black',
    frequency: { ...DEFAULT_FREQUENCY },
    layerStart: 0,
    stepWindow: [0, 1],
  };
}

const request: GalleryRequest = {
  version: 1,
  prompt: '@mochi on a shelf',
  negativePrompt: 'blurry',
  subjects: [subject('mochi', ['photo-a', 'photo-gone'])],
  settings: { ...DEFAULT_SETTINGS, steps: 3, seed: 1, randomSeed: true },
  seed: 987654,
  pack: { name: 'test-pack', version: '1.0.0' },
};

describe('parseGalleryRequest', () => {
  it('reads back what the studio wrote', () => {
    expect(parseGalleryRequest(JSON.parse(JSON.stringify(request)))).toEqual(request);
  });

  it('says why something is not a request', () => {
    expect(parseGalleryRequest('x')).toMatch(/not an object/);
    expect(parseGalleryRequest({ ...request, version: 2 })).toMatch(/version 2/);
    expect(parseGalleryRequest({ ...request, prompt: 5 })).toMatch(/no prompt/);
  });

  it('keeps only valid values from a foreign file', () => {
    const parsed = parseGalleryRequest({
      ...request,
      settings: { steps: 1000, width: 'wide', refMode: 'sideways' },
      subjects: [{ name: 'not a name!' }, { name: 'teddy', images: [{ id: 'p1' }, { nope: 1 }] }],
      seed: -4,
    });
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(parsed.settings).toEqual({ ...DEFAULT_SETTINGS, steps: 100 });
    expect(parsed.subjects.map((s) => [s.name, s.images.map((i) => i.id)])).toEqual([['teddy', ['p1']]]);
    expect(parsed.seed).toBe(0);
  });
});

describe('reuseRequest', () => {
  beforeEach(() => {
    useSubjectsStore.setState({ subjects: [subject('mochi', [], 'other-mochi'), subject('teddy', [])] });
    usePromptStore.getState().actions.setPrompt('something else');
    useSettingsStore.getState().actions.reset();
  });

  it('restores prompt, settings with the seed used, and subjects, telling which photos are missing', async () => {
    await putBlob('photo-a', new Blob([new Uint8Array([1, 2, 3])]));
    const report = await reuseRequest(request);
    expect(report.missingPhotos).toEqual(['photo-gone.png of @mochi']);
    expect(usePromptStore.getState()).toMatchObject({ prompt: '@mochi on a shelf', negativePrompt: 'blurry' });
    expect(useSettingsStore.getState().settings).toMatchObject({ steps: 3, seed: 987654, randomSeed: false });
    // The request's @mochi replaces the current one; @teddy, not in the request, stays.
    const subjects = useSubjectsStore.getState().subjects;
    expect(subjects.map((s) => [s.id, s.name, s.images.map((i) => i.id)])).toEqual([
      ['id-mochi', 'mochi', ['photo-a']],
      ['id-teddy', 'teddy', []],
    ]);
  });
});
