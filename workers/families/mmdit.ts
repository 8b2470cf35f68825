/**
 * The project's own MM-DiT (generated and trained packs): one text encoder,
 * references one image width right of the image in an origin-anchored
 * positional table, the pack's flow-matching schedule.
 */
import type { FamilyAdapter } from './family';
import { flowMatchingCommon } from './shared';

export const MMDIT_FAMILY: FamilyAdapter = { id: 'mmdit', label: "the project's MM-DiT", textEncoders: "the pack's text encoder", ...flowMatchingCommon };
