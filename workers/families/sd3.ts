/**
 * Stable Diffusion 3 / 3.5 converted from diffusers (workers/convert/sd3):
 * CLIP-L + bigG in one text graph (77 CLIP rows + 256 zero T5 rows),
 * references one image width right of the centred crop, diffusers'
 * FlowMatchEulerDiscreteScheduler (the manifest's scheduler type says so).
 */
import type { FamilyAdapter } from './family';
import { flowMatchingCommon } from './shared';

export const SD3_FAMILY: FamilyAdapter = {
  id: 'sd3',
  label: 'Stable Diffusion 3',
  textEncoders: 'CLIP-L and OpenCLIP bigG, both reading the same tokens; T5 is not used (as in diffusers without text_encoder_3)',
  ...flowMatchingCommon,
};
