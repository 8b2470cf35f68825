/** The family adapters by manifest `family`. */
import type { PackManifest } from '../pack/manifest';
import type { FamilyAdapter, FamilyId } from './family';
import { flux2Family } from './flux2';
import { MMDIT_FAMILY } from './mmdit';
import { SD3_FAMILY } from './sd3';

const FIXED: Record<Exclude<FamilyId, 'flux2'>, FamilyAdapter> = { mmdit: MMDIT_FAMILY, sd3: SD3_FAMILY };

export function familyOf(manifest: Pick<PackManifest, 'family' | 'transformer'>): FamilyAdapter {
  if (manifest.family !== 'flux2') return FIXED[manifest.family];
  const rope = manifest.transformer.rope;
  if (!rope) throw new Error('a FLUX.2 pack needs transformer.rope');
  return flux2Family(rope);
}

export type { FamilyAdapter, FamilyId } from './family';
