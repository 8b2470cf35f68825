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

/** Where one generation's tokens are: text rows, the noisy latent grid, live reference grids (full mode). */
export interface TokenLayout {
  textRows: number;
  /** The noisy latent grid in transformer tokens (patches). */
  grid: { height: number; width: number };
  /** Full mode: each live reference's grid, in reference order; cached mode: none. */
  references: readonly { height: number; width: number }[];
}

/** Extra float inputs of a graph, by name (data row-major, dims). */
export type ExtraFeeds = Record<string, { data: Float32Array; dims: number[] }>;

export interface FamilyAdapter {
  readonly id: FamilyId;
  /** For people: "the project's MM-DiT", "Stable Diffusion 3". */
  readonly label: string;
  /** For people: the text encoders that read the prompt, and what is left out ("CLIP-L and OpenCLIP bigG; T5 is not used"). */
  readonly textEncoders: string;
  /**
   * The sampler's sigmas for `steps` steps (steps + 1 values from 1 down to 0) for a noisy image
   * of `imageTokens` transformer tokens (FLUX.2 shifts its schedule by the image size).
   */
  sigmas(manifest: PackManifest, steps: number, imageTokens: number): Float64Array;
  /** The timestep the transformer takes for a sigma (both families: 1000 sigma). */
  timestep(sigma: number): number;
  /**
   * The prompt a subject's reference pass is conditioned on (its pooled
   * vector; EqDiff's ref_prompt): what the photo shows.
   */
  referencePrompt(classWord: string): string;
  /** Whether the reference pass reads the reference prompt's pooled vector (SD3: yes; FLUX.2: no text at all). */
  readonly referenceReadsText: boolean;
  /**
   * Inputs the step graphs take beyond the shared contract that say where the tokens sit
   * (FLUX.2: the RoPE tables of [text; image; live references]); none for families whose graphs
   * place tokens themselves (SD3's positional table).
   */
  stepPositions?(layout: TokenLayout): ExtraFeeds;
  /**
   * The same for the reference pass of reference `index` (in plan order) on a grid (FLUX.2: each
   * reference on its own time coordinate). A family with it makes a reference's K/V depend on its
   * index, so they are cached per index.
   */
  referencePositions?(index: number, grid: { height: number; width: number }): ExtraFeeds;
}
