/**
 * The measures on pictures whose truth is known: the world's own renderings score as the truth,
 * and each kind of error (another identity, another background, place, size, style, a leaked
 * background, a subject painted as the other) moves exactly the measure meant to see it.
 */
import { describe, expect, it } from 'vitest';
import { heldOutIdentityId, identityFromId } from './identity';
import { backgroundLeak, conceptPreservation, legible, mixing, paletteDistance, promptFollowing, segment, type Picture } from './measures';
import { renderScene } from './render';
import { sampleScene, type Scene } from './scene';
import type { SizeWord } from './vocabulary';

const picture = (scene: Scene): Picture => ({ size: 128, rgb: renderScene(scene, 128).rgb });
const oneSubject = (seed: number, extra: Partial<Parameters<typeof sampleScene>[1]> = {}) => sampleScene(seed, { subjects: [{ identityId: heldOutIdentityId(seed) }], ...extra });
/** The first 16 legible one-subject scenes from seed 900 on. */
const seeds = Array.from({ length: 80 }, (_, i) => 900 + i).filter((seed) => legible(oneSubject(seed))).slice(0, 16);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** An identity of the same class word as `id`, other than it. */
function sameClassOther(id: number): number {
  const word = identityFromId(id).classWord;
  for (let k = id + 1; ; k++) if (identityFromId(k).classWord === word) return k;
}

describe('toy world measures', () => {
  it('score the world’s own rendering of a legible scene as the truth: CP near 1, PF 1', () => {
    expect(seeds.length).toBe(16);
    const cps: number[] = [];
    for (const seed of seeds) {
      const scene = oneSubject(seed);
      const pic = picture(scene);
      const seg = segment(pic, scene);
      const cp = conceptPreservation(pic, seg.subjects[0]!, scene.subjects[0]!.identityId, seg.style);
      cps.push(cp.cp);
      expect(promptFollowing(pic, scene, seg).attributes.filter((a) => !a.ok)).toEqual([]);
    }
    // Not 1: the fitted rendering is placed to the pixel, and a pattern shifted by one pixel moves the 4x4 blocks.
    expect(Math.min(...cps)).toBeGreaterThan(0.75);
    expect(mean(cps)).toBeGreaterThan(0.88);
  });

  it('CP drops for another identity of the same class in the same place', () => {
    const same: number[] = [];
    const other: number[] = [];
    for (const seed of seeds) {
      const scene = oneSubject(seed, { object: null });
      const id = scene.subjects[0]!.identityId;
      const impostor: Scene = { ...scene, subjects: [{ ...scene.subjects[0]!, identityId: sameClassOther(id) }] };
      for (const [pic, out] of [[picture(scene), same], [picture(impostor), other]] as const) {
        out.push(conceptPreservation(pic, segment(pic, scene).subjects[0]!, id, scene.style).cp);
      }
    }
    expect(mean(other)).toBeLessThan(0.5);
    expect(mean(same) - mean(other)).toBeGreaterThan(0.4);
  });

  it('PF sees a wrong background, position, size and style, each as its own attribute', () => {
    const scene = oneSubject(907, { background: { kind: 'plain', colour: 'blue' }, style: 'plain', object: null });
    const s = scene.subjects[0]!;
    const failing = (pic: Picture) => promptFollowing(pic, scene).attributes.filter((a) => !a.ok).map((a) => a.name);
    expect(failing(picture({ ...scene, background: { kind: 'grass', colour: null, detail: 3 } }))).toEqual(['background']);
    const other = s.position === 'left' ? 'right' : 'left';
    expect(failing(picture({ ...scene, subjects: [{ ...s, position: other, cx: { left: 0.26, right: 0.74 }[other] }] }))).toEqual(['subject 1 position']);
    const size: SizeWord = s.size === 'small' ? 'large' : 'small';
    const resized = { ...s, size, h: { small: 0.34, large: 0.54 }[size], cx: s.position === 'center' ? 0.5 : s.cx };
    expect(failing(picture({ ...scene, subjects: [resized] }))).toContain('subject 1 size');
    expect(failing(picture({ ...scene, style: 'night' }))).toEqual(['style']);
  });

  it('leak is the share of the reference photo’s background that shows', () => {
    const scene = oneSubject(911, { background: { kind: 'plain', colour: 'yellow' }, object: null, style: 'plain' });
    const refBackground = { kind: 'striped' as const, colour: 'purple', detail: 5 };
    const clean = picture(scene);
    const leaked = picture({ ...scene, background: refBackground });
    expect(backgroundLeak(clean, segment(clean, scene), scene.background, refBackground, 'plain')).toBeLessThan(0.02);
    expect(backgroundLeak(leaked, segment(leaked, scene), scene.background, refBackground, 'plain')).toBeGreaterThan(0.8);
  });

  it('mixing is near 0 for two distinct subjects and near 1 when B is painted as A', () => {
    const a = heldOutIdentityId(40);
    const b = heldOutIdentityId(43);
    const scene = sampleScene(77, { subjects: [{ identityId: a }, { identityId: b }], style: 'plain' });
    expect(paletteDistance(a, b, 'plain')).toBeGreaterThan(60);
    const clean = picture(scene);
    const seg = segment(clean, scene);
    expect(mixing(clean, seg.subjects[1]!, a, b, scene.style)).toBeLessThan(0.1);
    const painted = picture({ ...scene, subjects: [scene.subjects[0]!, { ...scene.subjects[1]!, identityId: a }] });
    expect(mixing(painted, segment(painted, scene).subjects[1]!, a, b, scene.style)).toBeGreaterThan(0.8);
  });
});
