import { describe, expect, it } from 'vitest';
import { packCapabilities } from '../../../workers/pack/capabilities';
import { parseManifest } from '../../../workers/pack/manifest';
import { readFileSync } from 'node:fs';
import { DEFAULT_SETTINGS } from '../../state/settings-store';
import { followPack, packIdentity, packRecommendations } from './pack-defaults';

const testManifest = () => JSON.parse(readFileSync(new URL('../../../public/packs/test/manifest.json', import.meta.url), 'utf8'));

/** The test pack (sizes 128 and 64) with an SD3-like pack's recommendations. */
function sd3Like() {
  const m = testManifest();
  m.name = 'sd3-int4';
  m.defaultResolution = { width: 64, height: 64 };
  m.guidance = { ...m.guidance, steps: 28, text: 7, reference: 2 };
  return packCapabilities(parseManifest(JSON.stringify(m)));
}

describe('settings follow a newly loaded pack', () => {
  it('takes its size, steps and guidance and says what changed; the seed and reference knobs stay', () => {
    const mine = { ...DEFAULT_SETTINGS, seed: 77, dropRatio: 0.3, refMode: 'full' as const };
    const change = followPack(mine, sd3Like());
    expect(change.patch).toEqual({ width: 64, height: 64, steps: 28, textGuidance: 7 });
    expect(change.described).toEqual(['64\u00a0×\u00a064', '28 steps', 'text guidance 7']);
    expect({ ...mine, ...change.patch }).toMatchObject({ seed: 77, dropRatio: 0.3, refMode: 'full', refGuidance: 2 });
  });

  it('takes the reference mode the model was trained with, where the pack names one', () => {
    const m = testManifest();
    // The test pack is untrained: it recommends no mode.
    expect(packRecommendations(packCapabilities(parseManifest(JSON.stringify(m)))).refMode).toBeUndefined();
    m.trained = true;
    m.referenceModes = { cached: 'approximate', full: 'exact' };
    const kleinLike = packCapabilities(parseManifest(JSON.stringify(m)));
    const change = followPack({ ...DEFAULT_SETTINGS, ...packRecommendations(kleinLike), refMode: 'cached' }, kleinLike);
    expect(change).toEqual({ patch: { refMode: 'full' }, described: ['full references (as the model was trained)'] });
    // Neither or both exact: the user's choice stays.
    m.referenceModes = { cached: 'approximate', full: 'approximate' };
    expect(packRecommendations(packCapabilities(parseManifest(JSON.stringify(m)))).refMode).toBeUndefined();
  });

  it('changes nothing when the settings already are the pack\'s', () => {
    const caps = packCapabilities(parseManifest(JSON.stringify(testManifest())));
    const settings = { ...DEFAULT_SETTINGS, ...packRecommendations(caps) };
    expect(followPack(settings, caps)).toEqual({ patch: {}, described: [] });
  });

  it('tells packs apart by where they came from, their name and their version', () => {
    const a = packIdentity({ url: 'packs/test/', name: 'test-pack', version: '1.0.0' });
    expect(packIdentity({ url: 'packs/test/', name: 'test-pack', version: '1.0.0' })).toBe(a);
    expect(packIdentity({ url: 'packs/test/', name: 'test-pack', version: '1.1.0' })).not.toBe(a);
    expect(packIdentity({ url: 'opfs:sd3-int4', name: 'test-pack', version: '1.0.0' })).not.toBe(a);
  });
});
