import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packCapabilities } from './capabilities';
import { parseManifest } from './manifest';

const testPack = () => parseManifest(readFileSync(new URL('../../public/packs/test/manifest.json', import.meta.url), 'utf8'));

describe('pack capabilities', () => {
  it("are the test pack's limits, sizes and defaults", () => {
    expect(packCapabilities(testPack())).toEqual({
      resolutions: [
        { width: 128, height: 128 },
        { width: 64, height: 64 },
      ],
      defaultResolution: { width: 128, height: 128 },
      maxTextTokens: 16,
      family: { id: 'mmdit', label: "the project's MM-DiT", textEncoders: "the pack's text encoder" },
      maxSubjects: 4,
      maxReferencesPerSubject: 4,
      placeholders: 4,
      layers: testPack().transformer.layers,
      defaults: { steps: 8, textGuidance: 4, refGuidance: 2 },
      referenceModes: [
        { mode: 'cached', exact: false },
        { mode: 'full', exact: true },
      ],
      // Untrained: no mode is the model's own training.
      trainedMode: null,
    });
    expect(packCapabilities({ ...testPack(), trained: true }).trainedMode).toBe('full');
    expect(packCapabilities({ ...testPack(), trained: true, referenceModes: { cached: 'exact', full: 'exact' } }).trainedMode).toBeNull();
  });

  it('take no more subjects than the tokenizer has placeholders, and do not guess what an old pack does not say', () => {
    const m = testPack();
    const caps = packCapabilities({ ...m, tokens: { ...m.tokens, maxSubjects: 9 }, referenceModes: undefined });
    expect(caps.maxSubjects).toBe(4);
    expect(caps.referenceModes).toEqual([
      { mode: 'cached', exact: null },
      { mode: 'full', exact: null },
    ]);
  });
});
