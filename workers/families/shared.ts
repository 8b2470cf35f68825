/** What the current families share (flow matching with 1000-step timesteps, the same reference prompt). */
import type { PackManifest } from '../pack/manifest';
import { scheduleSigmas } from '../pipeline/schedule';

export const flowMatchingCommon = {
  sigmas: (manifest: PackManifest, steps: number) => scheduleSigmas(manifest.scheduler, steps),
  timestep: (sigma: number) => 1000 * sigma,
  referencePrompt: (classWord: string) => `a photo of a ${classWord}`.trim(),
  referenceReadsText: true,
};
