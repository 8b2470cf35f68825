/**
 * The per-step combine + Euler update as a graph of its own (METHOD.md
 * section 7), so that on WebGPU the latents never leave the GPU between steps:
 *   v = sum_b weights[b] * velocity[b]         (cross-guidance, see guidanceWeights)
 *   next = latents + dsigma * v
 *   next_batch = next broadcast to batch_shape (the next step's branches)
 * Built at run time with the pack builder's IR: no weights, a few hundred bytes.
 */
import { attr, GraphBuilder } from '../packbuild/ir';
import { serializeModel } from '../packbuild/serialize';

export function buildSamplerGraph(): Uint8Array {
  const g = new GraphBuilder('sampler_step');
  const latents = g.input('latents', 'float32', [1, 'channels', 'latent_height', 'latent_width']);
  const velocity = g.input('velocity', 'float32', ['batch', 'channels', 'latent_height', 'latent_width']);
  const weights = g.input('weights', 'float32', ['batch']);
  const dsigma = g.input('dsigma', 'float32', [1]);
  const batchShape = g.input('batch_shape', 'int64', [4]);
  const w = g.op('Reshape', [weights, g.i64([-1, 1, 1, 1])]);
  const v = g.op('ReduceSum', [g.op('Mul', [velocity, w]), g.i64([0])], { keepdims: attr.int(1) });
  const next = g.op('Add', [latents, g.op('Mul', [v, dsigma])]);
  g.output(next, 'next_latents', 'float32', [1, 'channels', 'latent_height', 'latent_width']);
  g.output(g.op('Expand', [next, batchShape]), 'next_batch', 'float32', ['next_batch', 'channels', 'latent_height', 'latent_width']);
  return serializeModel(g.build());
}
