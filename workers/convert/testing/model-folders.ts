/**
 * Synthetic diffusers folders for tests: the real model_index.json / config.json fields the
 * inspector reads (real sizes), tiny weights.
 */
import { writeSafetensors, writeSharded, type FileContent } from './safetensors-writer';

export type FolderFiles = Record<string, FileContent>;

const tinyWeights = (prefix: string): Uint8Array =>
  writeSafetensors({ [`${prefix}.weight`]: { dtype: 'F16', shape: [2, 2] }, [`${prefix}.bias`]: { dtype: 'F16', shape: [2] } });

const BPE_TOKENIZER: FolderFiles = { 'vocab.json': '{}', 'merges.txt': '#version: 0.2\n', 'tokenizer_config.json': { model_max_length: 77 } };

function put(files: FolderFiles, dir: string, content: FolderFiles): void {
  for (const [name, value] of Object.entries(content)) files[`${dir}/${name}`] = value;
}

export interface Sd3Options {
  /** SD3.5 Medium (qk_norm, dual attention in blocks 0..12) instead of SD3 Medium. */
  v35?: boolean;
  /** Leave out text_encoder_3 / tokenizer_3 (and list them as [null, null]). */
  withoutT5?: boolean;
}

export function sd3Folder(options: Sd3Options = {}): FolderFiles {
  const files: FolderFiles = {
    'model_index.json': {
      _class_name: 'StableDiffusion3Pipeline',
      _diffusers_version: options.v35 ? '0.31.0.dev0' : '0.29.0.dev0',
      scheduler: ['diffusers', 'FlowMatchEulerDiscreteScheduler'],
      text_encoder: ['transformers', 'CLIPTextModelWithProjection'],
      text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
      text_encoder_3: options.withoutT5 ? [null, null] : ['transformers', 'T5EncoderModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      tokenizer_2: ['transformers', 'CLIPTokenizer'],
      tokenizer_3: options.withoutT5 ? [null, null] : ['transformers', 'T5TokenizerFast'],
      transformer: ['diffusers', 'SD3Transformer2DModel'],
      vae: ['diffusers', 'AutoencoderKL'],
    },
    'scheduler/scheduler_config.json': { _class_name: 'FlowMatchEulerDiscreteScheduler', num_train_timesteps: 1000, shift: 3.0 },
    'transformer/config.json': {
      _class_name: 'SD3Transformer2DModel',
      attention_head_dim: 64,
      caption_projection_dim: 1536,
      in_channels: 16,
      joint_attention_dim: 4096,
      num_attention_heads: 24,
      num_layers: 24,
      out_channels: 16,
      patch_size: 2,
      pooled_projection_dim: 2048,
      pos_embed_max_size: options.v35 ? 384 : 192,
      sample_size: 128,
      ...(options.v35 ? { qk_norm: 'rms_norm', dual_attention_layers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] } : {}),
    },
    'transformer/diffusion_pytorch_model.safetensors': tinyWeights('proj_out'),
    'vae/config.json': { _class_name: 'AutoencoderKL', latent_channels: 16, scaling_factor: 1.5305, shift_factor: 0.0609 },
    'vae/diffusion_pytorch_model.safetensors': tinyWeights('decoder.conv_out'),
    'text_encoder/config.json': { architectures: ['CLIPTextModelWithProjection'], hidden_size: 768 },
    'text_encoder/model.safetensors': tinyWeights('text_projection'),
    'text_encoder_2/config.json': { architectures: ['CLIPTextModelWithProjection'], hidden_size: 1280 },
    'text_encoder_2/model.safetensors': tinyWeights('text_projection'),
    'README.md': `---\nlicense: other\nlicense_name: stabilityai-ai-community\nlicense_link: LICENSE.md\n---\n# Stable Diffusion\n`,
    'LICENSE.md': 'STABILITY AI COMMUNITY LICENSE AGREEMENT\n',
  };
  put(files, 'tokenizer', BPE_TOKENIZER);
  put(files, 'tokenizer_2', BPE_TOKENIZER);
  if (!options.withoutT5) {
    files['text_encoder_3/config.json'] = { architectures: ['T5EncoderModel'], d_model: 4096 };
    put(
      files,
      'text_encoder_3',
      writeSharded('model', [
        { 'shared.weight': { dtype: 'F16', shape: [4, 2] } },
        { 'encoder.final_layer_norm.weight': { dtype: 'F16', shape: [2] } },
      ]),
    );
    put(files, 'tokenizer_3', { 'tokenizer.json': '{}', 'spiece.model': 'x', 'tokenizer_config.json': {} });
  }
  return files;
}

export interface KleinOptions {
  size?: '4B' | '9B';
  kv?: boolean;
  distilled?: boolean;
}

export function kleinFolder(options: KleinOptions = {}): FolderFiles {
  const nine = options.size === '9B';
  const files: FolderFiles = {
    'model_index.json': {
      _class_name: options.kv ? 'Flux2KleinKVPipeline' : 'Flux2KleinPipeline',
      _diffusers_version: '0.37.0.dev0',
      is_distilled: options.distilled ?? true,
      scheduler: ['diffusers', 'FlowMatchEulerDiscreteScheduler'],
      text_encoder: ['transformers', 'Qwen3ForCausalLM'],
      tokenizer: ['transformers', 'Qwen2TokenizerFast'],
      transformer: ['diffusers', 'Flux2Transformer2DModel'],
      vae: ['diffusers', 'AutoencoderKLFlux2'],
    },
    'scheduler/scheduler_config.json': { _class_name: 'FlowMatchEulerDiscreteScheduler', use_dynamic_shifting: true },
    'transformer/config.json': {
      _class_name: 'Flux2Transformer2DModel',
      attention_head_dim: 128,
      axes_dims_rope: [32, 32, 32, 32],
      in_channels: 128,
      joint_attention_dim: nine ? 12288 : 7680,
      mlp_ratio: 3.0,
      num_attention_heads: nine ? 32 : 24,
      num_layers: nine ? 8 : 5,
      num_single_layers: nine ? 24 : 20,
      patch_size: 1,
      rope_theta: 2000,
    },
    'vae/config.json': { _class_name: 'AutoencoderKLFlux2', latent_channels: 32 },
    'vae/diffusion_pytorch_model.safetensors': tinyWeights('decoder.conv_out'),
    // The real Qwen3-4B / Qwen3-8B configs (the fields the converter reads).
    'text_encoder/config.json': {
      architectures: ['Qwen3ForCausalLM'],
      hidden_size: nine ? 4096 : 2560,
      intermediate_size: nine ? 12288 : 9728,
      num_hidden_layers: 36,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      head_dim: 128,
      vocab_size: 151936,
      tie_word_embeddings: !nine,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000,
      max_position_embeddings: 40960,
    },
    'text_encoder/model.safetensors': tinyWeights('model.norm'),
    'tokenizer/tokenizer.json': '{}',
    'tokenizer/tokenizer_config.json': { model_max_length: 131072 },
    'README.md': `---\nlicense: ${nine ? 'other' : 'apache-2.0'}\n---\n# FLUX.2 [klein]\n`,
  };
  put(
    files,
    'transformer',
    writeSharded('diffusion_pytorch_model', [{ 'x_embedder.weight': { dtype: 'BF16', shape: [2, 4] } }, { 'proj_out.weight': { dtype: 'BF16', shape: [4, 2] } }]),
  );
  return files;
}
