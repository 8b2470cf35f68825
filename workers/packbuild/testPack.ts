/**
 * The built-in test pack: tiny and UNTRAINED (random weights from a fixed
 * seed). It runs every code path of the studio; its images are structured
 * noise, not pictures.
 */
import type { PackBuildConfig } from './pack';
import { TEST_WORDS } from './tokenizer';

export const TEST_PACK_CONFIG: PackBuildConfig = {
  name: 'test-pack',
  version: '1.0.0',
  description:
    'Built-in test pack: a tiny MM-DiT, VAE and text encoder with random (untrained) weights from a fixed seed. It exercises every code path; its images look like structured noise.',
  trained: false,
  seed: 20261122,
  precision: { matmul: 'int8', conv: 'int8', blockSize: 32 },
  attention: ['decomposed', 'mha'],
  // One head per piece, as in a real pack. The tiny sizes fit one chunk, but the DiT graphs are cut
  // into query chunks anyway (3 for full mode: uneven chunks) so that the chunked path runs everywhere.
  attentionPieces: { headsPerPiece: 1, queryChunks: { text_encoder: 1, dit_reference: 2, dit_step: 2, dit_step_full: 3 } },
  dit: {
    latentChannels: 4,
    patchSize: 2,
    dim: 64,
    heads: 4,
    layers: 2,
    mlpHidden: 128,
    textDim: 64,
    pooledDim: 64,
    timeFreqDim: 32,
    maxGrid: { height: 8, width: 8 },
  },
  vae: { latentChannels: 4, encoderChannels: [16, 32, 32], decoderChannels: [32, 32, 16, 16] },
  text: { maxTokens: 16, dim: 64, heads: 4, mlpHidden: 128, pooledDim: 64 },
  words: TEST_WORDS,
  placeholders: ['<s1>', '<s2>', '<s3>', '<s4>'],
  resolutions: [
    { width: 128, height: 128 },
    { width: 64, height: 64 },
  ],
  defaultResolution: { width: 128, height: 128 },
  scheduler: { type: 'flow-matching-euler', shift: 3, trainTimesteps: 1000 },
  guidance: { steps: 8, text: 4, reference: 2 },
  tokens: { maxText: 16, maxReferencesPerSubject: 4, maxSubjects: 4 },
  attentionBiasMin: -10000,
  // Small shards on purpose: the built-in pack exercises the same external-data,
  // multi-shard loading path as a multi-gigabyte model.
  externalData: { roles: ['text_encoder', 'dit_reference', 'dit_step', 'dit_step_full'], maxShardBytes: 192 * 1024, minTensorBytes: 1024, align: 64 },
  // Cached mode drops the references' view of text and image (an approximation of full mode).
  referenceModes: { cached: 'approximate', full: 'exact' },
  source: { kind: 'generated', model: 'random weights from a fixed seed (untrained)', tool: 'npm run pack:test' },
};
