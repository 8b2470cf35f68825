import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HELD_OUT_FIRST, identityFromId } from './identity';
import { scenePrompt } from './prompt';
import { renderScene } from './render';
import { sampleScene } from './scene';
import { trainingExample } from './training-example';

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('toy world', () => {
  it('renders the same bytes for the same seed and different bytes for another', () => {
    const a = renderScene(sampleScene(7, { subjects: [{ identityId: 42 }] }), 64);
    const b = renderScene(sampleScene(7, { subjects: [{ identityId: 42 }] }), 64);
    const c = renderScene(sampleScene(8, { subjects: [{ identityId: 42 }] }), 64);
    expect(digest(a.rgb)).toBe(digest(b.rgb));
    expect(digest(a.rgb)).not.toBe(digest(c.rgb));
  });

  it('gives each subject a true mask that covers part of the image and lies inside its slot', () => {
    const scene = sampleScene(3, { subjects: [{ identityId: 5, position: 'left', size: 'large' }] });
    const r = renderScene(scene, 64);
    const m = r.subjectMasks[0]!;
    let area = 0;
    let sx = 0;
    for (let i = 0; i < m.length; i++) {
      area += m[i]! / 255;
      sx += ((i % 64) * m[i]!) / 255;
    }
    expect(area).toBeGreaterThan(64 * 64 * 0.05);
    expect(sx / area / 64).toBeLessThan(0.45);
  });

  it('says the scene in words, naming subjects by placeholder when asked', () => {
    const scene = sampleScene(1, { subjects: [{ identityId: 9, position: 'right', size: 'small' }], background: { kind: 'grass' }, object: null, style: 'plain' });
    const word = identityFromId(9).classWord;
    expect(scenePrompt(scene, ['<s1>'])).toBe(`<s1> ${word}, small, on the right, on grass`);
    expect(scenePrompt(scene)).toMatch(new RegExp(`^an? ${word}, small, on the right, on grass$`));
  });

  it('draws training identities below the held-out range only', () => {
    for (let s = 0; s < 200; s++) for (const subj of trainingExample(s).target.subjects) expect(subj.identityId).toBeLessThan(HELD_OUT_FIRST);
  });
});
