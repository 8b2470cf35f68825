/** The family adapters by manifest `family`. */
import type { PackManifest } from '../pack/manifest';
import type { FamilyAdapter, FamilyId } from './family';
import { MMDIT_FAMILY } from './mmdit';
import { SD3_FAMILY } from './sd3';

const FAMILIES: Record<FamilyId, FamilyAdapter> = { mmdit: MMDIT_FAMILY, sd3: SD3_FAMILY };

export function familyOf(manifest: Pick<PackManifest, 'family'>): FamilyAdapter {
  return FAMILIES[manifest.family];
}

export type { FamilyAdapter, FamilyId } from './family';
