/**
 * The planner's model description of a real pack, from its manifest alone:
 * the weights a session holds are the bytes of its graph file plus its
 * external-data shards (docs/pack-format.md section 1), and the activation
 * shapes come from the manifest's `transformer`, `latent` and `tokens` fields.
 *
 * The manifest does not say the text encoder's or the VAE's inner widths.
 * For those the description assumes (and ManifestAssumptions can override):
 * a text encoder of width textDim with a 4x GELU MLP and the DiT's head count,
 * a DiT MLP of 4 x hiddenSize (SD3's ratio), and the standard latent-diffusion
 * VAE widths [128, 256, 512, 512] (SD, SDXL, SD3 and FLUX all use them), an
 * upper bound for the built-in test pack's much smaller VAE.
 */
import type { GraphRole, PackManifest } from '../pack/manifest';
import { graphFor, OPTIONAL_ROLES } from '../pack/manifest';
import type { BlockShape, GraphArch, ModelArch } from './architecture';

export interface ManifestAssumptions {
  vaeBlockOut: number[];
  textMlpRatio: number;
  ditMlpRatio: number;
}

export const DEFAULT_ASSUMPTIONS: ManifestAssumptions = { vaeBlockOut: [128, 256, 512, 512], textMlpRatio: 4, ditMlpRatio: 4 };

const ROLES: readonly GraphRole[] = ['text_encoder', 'vae_encoder', 'vae_decoder', 'dit_reference', 'dit_step', 'dit_step_full'];

const gelu = (width: number, heads: number, mlpRatio: number): BlockShape => ({
  width,
  heads,
  qkvWidth: 3 * width,
  attnOutWidth: width,
  mlpHidden: mlpRatio * width,
  gatedMlp: false,
});

export function archFromManifest(m: PackManifest, assume: ManifestAssumptions = DEFAULT_ASSUMPTIONS): ModelArch {
  const tf = m.transformer;
  // The portable graph of each role: the one that runs everywhere, and whose attention the planner models.
  // Optional roles count where the pack has them.
  const present = [...ROLES, ...OPTIONAL_ROLES.filter((role) => m.graphs.some((g) => g.role === role))];
  const graphs: GraphArch[] = present.map((role) => {
    const g = graphFor(m, role, 'decomposed');
    const bytes = g.bytes + g.externalData.reduce((n, shard) => n + shard.bytes, 0);
    return { role, name: `${role} (${g.file})`, weights: { kind: 'file', file: g.file, bytes }, largestWeightTensorBytes: g.largestTensorBytes };
  });
  // The engine batches [v0, v_t, v_tr] with references and reference guidance, [v0, v_t] otherwise.
  const withRefs = m.guidance.reference !== 0 ? 3 : 2;
  return {
    name: m.name,
    description: m.description,
    textTokens: m.tokens.maxText,
    textEncoders: [{ name: 'text encoder', tokens: m.tokens.maxText, block: gelu(tf.textDim, tf.heads, assume.textMlpRatio) }],
    vae: { blockOut: assume.vaeBlockOut, latentChannels: m.latent.channels },
    dit: {
      layers: tf.layers,
      hidden: tf.hiddenSize,
      heads: tf.heads,
      blocks: [gelu(tf.hiddenSize, tf.heads, assume.ditMlpRatio)],
      pixelsPerToken: m.latent.downsample * tf.patchSize,
      latentPerToken: m.latent.channels * tf.patchSize ** 2,
      textDim: tf.textDim,
      pooledDim: tf.pooledDim,
    },
    branchesWithReferences: withRefs,
    branchesWithoutReferences: 2,
    // The exact mode when the pack says only full mode is (FLUX.2 klein 4B style), cached otherwise.
    defaultRefMode: m.referenceModes?.full === 'exact' && m.referenceModes.cached !== 'exact' ? 'full' : 'cached',
    graphs,
  };
}
