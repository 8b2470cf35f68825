/**
 * One training example of the toy world, a pure function of its seed: the
 * target scene (one or two subjects), and for each subject two reference
 * photos of it in other scenes (one "aligned": the same place and size as in
 * the target, one anywhere), each with its true mask. The training script
 * reads these through the dataset writer, the eval builds its own from
 * held-out identities with the same functions.
 */
import { trainingIdentityId } from './identity';
import { Draw } from './random';
import { sampleBackground, sampleScene, type Scene, type SceneSubject } from './scene';

export interface TrainingExample {
  seed: number;
  target: Scene;
  /** Per target subject: the reference scene at the subject's own place and size, and one anywhere. */
  references: { aligned: Scene; free: Scene }[];
}

/** A reference photo's scene: the subject alone, no second object, plain style. */
export function referenceScene(seed: number, identityId: number, placement: SceneSubject | null): Scene {
  const d = new Draw(seed, 'reference');
  if (!placement) return sampleScene(seed, { subjects: [{ identityId }], object: null, style: 'plain' });
  return { background: sampleBackground(d), subjects: [{ ...placement, identityId }], object: null, style: 'plain' };
}

export function trainingExample(seed: number, twoSubjectShare = 0.25): TrainingExample {
  const d = new Draw(seed, 'example');
  const count = d.chance(twoSubjectShare) ? 2 : 1;
  const subjects = Array.from({ length: count }, () => ({ identityId: trainingIdentityId(d) }));
  const target = sampleScene(d.int(0x7fffffff), { subjects });
  const references = target.subjects.map((s) => ({
    aligned: referenceScene(d.int(0x7fffffff), s.identityId, s),
    free: referenceScene(d.int(0x7fffffff), s.identityId, null),
  }));
  return { seed, target, references };
}
