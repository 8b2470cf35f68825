/**
 * The eval's cases: held-out identities (never trained on), each with one reference photo of it
 * in another scene, and a target scene the prompt asks for. Every scene is legible to the
 * measures, the reference's background differs in kind from the asked one (so a leak shows),
 * and two subjects of a case have distinct palettes (so mixing shows). Pure and seeded: the
 * eval, its CI variant and the app's examples draw the same cases.
 */
import { heldOutIdentityId, identityFromId } from './identity';
import { legible, paletteDistance } from './measures';
import { mentionPrompt, scenePrompt } from './prompt';
import { Draw } from './random';
import { sampleScene, type Scene } from './scene';
import { referenceScene } from './training-example';

export interface EvalSubject {
  /** The @name the prompt mentions. */
  name: string;
  identityId: number;
  classWord: string;
  /** The reference photo's scene (the subject alone, elsewhere, another background). */
  reference: Scene;
}

export interface EvalCase {
  index: number;
  seed: number;
  target: Scene;
  subjects: EvalSubject[];
  /** What the studio's user types: "@a, small, on the left, ...". */
  prompt: string;
  /** The same scene with no reference: "a toy, small, on the left, ..." (the text-only row). */
  textOnlyPrompt: string;
}

const NAMES = ['a', 'b'];

export function evalCase(index: number, subjects: 1 | 2, firstSeed = 1, names: readonly string[] = NAMES): EvalCase {
  const d = new Draw(firstSeed + index, `eval-${subjects}`);
  // Held-out identities, from a range per subject count so one- and two-subject cases differ.
  let next = (subjects === 1 ? 0 : 500_000) + index * 64;
  for (let tries = 0; tries < 10_000; tries++) {
    const ids = Array.from({ length: subjects }, () => heldOutIdentityId(next++));
    const seed = d.int(0x7fffffff);
    const target = sampleScene(seed, { subjects: ids.map((identityId) => ({ identityId })) });
    if (!legible(target)) continue;
    if (subjects === 2 && paletteDistance(ids[0]!, ids[1]!, target.style) < 60) continue;
    const refs = ids.map((id) => referenceScene(d.int(0x7fffffff), id, null));
    if (!refs.every((r) => legible(r) && r.background.kind !== target.background.kind)) continue;
    const mentions = names.slice(0, subjects);
    return {
      index,
      seed,
      target,
      subjects: ids.map((identityId, i) => ({ name: mentions[i]!, identityId, classWord: identityFromId(identityId).classWord, reference: refs[i]! })),
      prompt: mentionPrompt(target, mentions),
      textOnlyPrompt: scenePrompt(target),
    };
  }
  throw new Error(`eval case ${index}: no legible scene found`);
}

export function evalCases(count: number, subjects: 1 | 2, firstSeed = 1): EvalCase[] {
  return Array.from({ length: count }, (_, i) => evalCase(i, subjects, firstSeed));
}

/**
 * The studio's "Try an example": two held-out identities with their reference photos and a
 * prompt that puts them in a new scene (an eval case with friendlier names). The e2e test measures
 * the studio's picture of it against this same case.
 */
export function exampleCase(): EvalCase {
  return evalCase(0, 2, 2026, ['pip', 'ruby']);
}
