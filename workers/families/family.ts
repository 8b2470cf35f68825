/**
 * A model family, as the engine needs to know it. Everything that differs
 * between families and is not inside the graphs lives here; the stages
 * (text conditioner, reference encoder, sampler, decoder) ask the adapter
 * and never branch on the family themselves.
 *
 * Inside the graphs (so not here): the text encoders and how their outputs
 * are joined (SD3: CLIP-L + bigG on one id sequence, zero T5 rows), the
 * latent normalisation (the VAE graphs take and give model-space latents),
 * and where references sit in the positional table (the DiT graphs).
 */
import type { PackManifest } from '../pack/manifest';

export type FamilyId = PackManifest['family'];

export interface FamilyAdapter {
  readonly id: FamilyId;
  /** For people: "the project's MM-DiT", "Stable Diffusion 3". */
  readonly label: string;
  /** For people: the text encoders that read the prompt, and what is left out ("CLIP-L and OpenCLIP bigG; T5 is not used"). */
  readonly textEncoders: string;
  /** The sampler's sigmas for `steps` steps (steps + 1 values from 1 down to 0). */
  sigmas(manifest: PackManifest, steps: number): Float64Array;
  /** The timestep the transformer takes for a sigma (both families: 1000 sigma). */
  timestep(sigma: number): number;
  /**
   * The prompt a subject's reference pass is conditioned on (its pooled
   * vector; EqDiff's ref_prompt): what the photo shows.
   */
  referencePrompt(classWord: string): string;
}
