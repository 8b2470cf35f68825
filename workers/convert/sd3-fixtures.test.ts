/**
 * The committed SD3 / SD3.5 reference folders (fixtures/sd3/<name>/, made by
 * fixtures/make_sd3_fixtures.py with diffusers + transformers on random weights) read through the
 * converter's own reader: recognised as the right family, every component and key a conversion needs
 * present with the real layout's shapes, and the reference .npy files as reference/index.json says.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { decodeNpy, parseNpyHeader, readNpy } from '../node/npy';
import { getComponent, inspectModelFolder, type JsonObject, type ModelFolderDescription } from './folder';
import { folderFromDisk } from './node-source';
import { expectTensor, openCheckpoint, type TensorIndex } from './safetensors';

const FIXTURES = new URL('../../fixtures/sd3/', import.meta.url).pathname;

interface IndexEntry {
  what: string;
  dtype: string;
  shape: number[];
  bytes: number;
}

interface ReferenceIndex {
  model: string;
  versions: Record<string, string>;
  prompts: string[];
  files: Record<string, IndexEntry>;
  token_ids: { tokenizer: string; ids: number[][] }[];
}

const num = (config: JsonObject, key: string): number => {
  const value = config[key];
  if (typeof value !== 'number') throw new Error(`config ${key} is not a number`);
  return value;
};

/** Every transformer key a conversion reads, with its shape, from the config (real SD3 / SD3.5 layout). */
function transformerKeys(config: JsonObject): [string, number[]][] {
  const heads = num(config, 'num_attention_heads');
  const headDim = num(config, 'attention_head_dim');
  const d = heads * headDim;
  const layers = num(config, 'num_layers');
  const patch = num(config, 'patch_size');
  const channels = num(config, 'in_channels');
  const table = num(config, 'pos_embed_max_size');
  const dual = new Set((config.dual_attention_layers as number[] | undefined) ?? []);
  const qkNorm = typeof config.qk_norm === 'string';
  const keys: [string, number[]][] = [
    ['pos_embed.proj.weight', [d, channels, patch, patch]],
    ['pos_embed.proj.bias', [d]],
    ['pos_embed.pos_embed', [1, table * table, d]],
    ['time_text_embed.timestep_embedder.linear_1.weight', [d, 256]],
    ['time_text_embed.timestep_embedder.linear_2.weight', [d, d]],
    ['time_text_embed.text_embedder.linear_1.weight', [d, num(config, 'pooled_projection_dim')]],
    ['time_text_embed.text_embedder.linear_2.weight', [d, d]],
    ['context_embedder.weight', [num(config, 'caption_projection_dim'), num(config, 'joint_attention_dim')]],
    ['context_embedder.bias', [d]],
    ['norm_out.linear.weight', [2 * d, d]],
    ['proj_out.weight', [patch * patch * num(config, 'out_channels'), d]],
    ['proj_out.bias', [patch * patch * num(config, 'out_channels')]],
  ];
  for (let i = 0; i < layers; i++) {
    const b = `transformer_blocks.${i}`;
    const last = i === layers - 1;
    keys.push([`${b}.norm1.linear.weight`, [(dual.has(i) ? 9 : 6) * d, d]], [`${b}.norm1_context.linear.weight`, [(last ? 2 : 6) * d, d]]);
    for (const p of ['to_q', 'to_k', 'to_v', 'add_q_proj', 'add_k_proj', 'add_v_proj', 'to_out.0']) keys.push([`${b}.attn.${p}.weight`, [d, d]], [`${b}.attn.${p}.bias`, [d]]);
    keys.push([`${b}.ff.net.0.proj.weight`, [4 * d, d]], [`${b}.ff.net.2.weight`, [d, 4 * d]]);
    if (!last) keys.push([`${b}.attn.to_add_out.weight`, [d, d]], [`${b}.ff_context.net.0.proj.weight`, [4 * d, d]], [`${b}.ff_context.net.2.weight`, [d, 4 * d]]);
    if (qkNorm) for (const n of ['norm_q', 'norm_k', 'norm_added_q', 'norm_added_k']) keys.push([`${b}.attn.${n}.weight`, [headDim]]);
    if (dual.has(i)) {
      for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) keys.push([`${b}.attn2.${p}.weight`, [d, d]]);
      if (qkNorm) keys.push([`${b}.attn2.norm_q.weight`, [headDim]], [`${b}.attn2.norm_k.weight`, [headDim]]);
    }
  }
  return keys;
}

/** The keys that must NOT be there: the last block's context output and FF (context_pre_only). */
function absentTransformerKeys(config: JsonObject): string[] {
  const last = `transformer_blocks.${num(config, 'num_layers') - 1}`;
  return [`${last}.attn.to_add_out.weight`, `${last}.ff_context.net.0.proj.weight`];
}

function vaeKeys(config: JsonObject): [string, number[]][] {
  const blocks = config.block_out_channels as number[];
  const perBlock = num(config, 'layers_per_block');
  const latent = num(config, 'latent_channels');
  const n = blocks.length;
  const top = blocks[n - 1]!;
  const keys: [string, number[]][] = [
    ['encoder.conv_in.weight', [blocks[0]!, num(config, 'in_channels'), 3, 3]],
    ['encoder.conv_out.weight', [2 * latent, top, 3, 3]],
    ['encoder.conv_norm_out.weight', [top]],
    ['decoder.conv_in.weight', [top, latent, 3, 3]],
    ['decoder.conv_out.weight', [num(config, 'out_channels'), blocks[0]!, 3, 3]],
    ['decoder.conv_norm_out.weight', [blocks[0]!]],
  ];
  for (const part of ['encoder', 'decoder']) {
    for (const r of [0, 1]) keys.push([`${part}.mid_block.resnets.${r}.conv1.weight`, [top, top, 3, 3]]);
    keys.push([`${part}.mid_block.attentions.0.group_norm.weight`, [top]]);
    for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) keys.push([`${part}.mid_block.attentions.0.${p}.weight`, [top, top]]);
  }
  let inC = blocks[0]!;
  for (let i = 0; i < n; i++) {
    const out = blocks[i]!;
    for (let j = 0; j < perBlock; j++) {
      const r = `encoder.down_blocks.${i}.resnets.${j}`;
      const cin = j === 0 ? inC : out;
      keys.push([`${r}.norm1.weight`, [cin]], [`${r}.conv1.weight`, [out, cin, 3, 3]], [`${r}.norm2.weight`, [out]], [`${r}.conv2.weight`, [out, out, 3, 3]]);
      if (cin !== out) keys.push([`${r}.conv_shortcut.weight`, [out, cin, 1, 1]]);
    }
    if (i < n - 1) keys.push([`encoder.down_blocks.${i}.downsamplers.0.conv.weight`, [out, out, 3, 3]]);
    inC = out;
  }
  const reversed = [...blocks].reverse();
  let prev = reversed[0]!;
  for (let i = 0; i < n; i++) {
    const out = reversed[i]!;
    for (let j = 0; j <= perBlock; j++) {
      const cin = j === 0 ? prev : out;
      keys.push([`decoder.up_blocks.${i}.resnets.${j}.conv1.weight`, [out, cin, 3, 3]]);
      if (cin !== out) keys.push([`decoder.up_blocks.${i}.resnets.${j}.conv_shortcut.weight`, [out, cin, 1, 1]]);
    }
    if (i < n - 1) keys.push([`decoder.up_blocks.${i}.upsamplers.0.conv.weight`, [out, out, 3, 3]]);
    prev = out;
  }
  return keys;
}

function clipKeys(config: JsonObject): [string, number[]][] {
  const h = num(config, 'hidden_size');
  const ff = num(config, 'intermediate_size');
  const keys: [string, number[]][] = [
    ['text_model.embeddings.token_embedding.weight', [num(config, 'vocab_size'), h]],
    ['text_model.embeddings.position_embedding.weight', [num(config, 'max_position_embeddings'), h]],
    ['text_model.final_layer_norm.weight', [h]],
    ['text_model.final_layer_norm.bias', [h]],
    ['text_projection.weight', [num(config, 'projection_dim'), h]],
  ];
  for (let i = 0; i < num(config, 'num_hidden_layers'); i++) {
    const l = `text_model.encoder.layers.${i}`;
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) keys.push([`${l}.self_attn.${p}.weight`, [h, h]], [`${l}.self_attn.${p}.bias`, [h]]);
    keys.push([`${l}.layer_norm1.weight`, [h]], [`${l}.layer_norm2.bias`, [h]], [`${l}.mlp.fc1.weight`, [ff, h]], [`${l}.mlp.fc2.weight`, [h, ff]]);
  }
  return keys;
}

function checkKeys(weights: TensorIndex, keys: [string, number[]][]): void {
  for (const [key, shape] of keys) expect(expectTensor(weights, key, shape, { dtypes: ['F32'] }).dtype).toBe('F32');
}

async function readIndex(name: string): Promise<ReferenceIndex> {
  return JSON.parse(await readFile(`${FIXTURES}${name}/reference/index.json`, 'utf8')) as ReferenceIndex;
}

describe.each([
  { name: 'sd3', family: 'sd3', layers: 2, dual: [] as number[] },
  { name: 'sd3.5', family: 'sd3.5', layers: 3, dual: [0] },
])('fixtures/sd3/$name (diffusers folder from the real code)', ({ name, family, layers, dual }) => {
  let described: Promise<ModelFolderDescription> | undefined;
  const describeFolder = (): Promise<ModelFolderDescription> => (described ??= folderFromDisk(`${FIXTURES}${name}`).then(inspectModelFolder));

  it(`is recognised as ${family}, without T5`, async () => {
    const d = await describeFolder();
    expect(d).toMatchObject({ family, variant: 'custom', pipelineClass: 'StableDiffusion3Pipeline', diffusersVersion: '0.42.1' });
    expect(d.components.map((c) => c.name)).toEqual(['transformer', 'vae', 'text_encoder', 'text_encoder_2']);
    expect(d.skipped.map((s) => s.name)).toEqual(['text_encoder_3', 'tokenizer_3']);
    expect(d.modelIndex.text_encoder_3).toEqual([null, null]);
    expect(d.scheduler).toMatchObject({ className: 'FlowMatchEulerDiscreteScheduler', config: { shift: 3, num_train_timesteps: 1000 } });
    expect(d.warnings).toEqual([]);
    const transformer = getComponent(d, 'transformer').config;
    expect(transformer).toMatchObject({ num_layers: layers, patch_size: 2, sample_size: 32, pos_embed_max_size: 32, dual_attention_layers: dual });
  });

  it('has every key a conversion needs, in the real layout, in float32', async () => {
    const d = await describeFolder();
    const transformer = getComponent(d, 'transformer');
    checkKeys(transformer.weights, transformerKeys(transformer.config));
    for (const key of absentTransformerKeys(transformer.config)) expect(transformer.weights.has(key)).toBe(false);
    const vae = getComponent(d, 'vae');
    expect(vae.config).toMatchObject({ latent_channels: 16, scaling_factor: 1.5305, shift_factor: 0.0609, use_quant_conv: false, use_post_quant_conv: false });
    checkKeys(vae.weights, vaeKeys(vae.config));
    expect(vae.weights.keys().some((k) => k.startsWith('quant_conv.') || k.startsWith('post_quant_conv.'))).toBe(false);
    const pooled: number[] = [];
    for (const [component, act] of [
      ['text_encoder', 'quick_gelu'],
      ['text_encoder_2', 'gelu'],
    ] as const) {
      const c = getComponent(d, component);
      expect(c.config).toMatchObject({ hidden_act: act, eos_token_id: 2, max_position_embeddings: 77 });
      checkKeys(c.weights, clipKeys(c.config));
      expect(c.weights.has('text_projection.bias')).toBe(false);
      pooled.push(num(c.config, 'projection_dim'));
    }
    // The pooled vector is [CLIP-L | CLIP-G]; the sequence concat is zero-padded to joint_attention_dim.
    expect(pooled[0]! + pooled[1]!).toBe(num(transformer.config, 'pooled_projection_dim'));
    const hidden = num(getComponent(d, 'text_encoder').config, 'hidden_size') + num(getComponent(d, 'text_encoder_2').config, 'hidden_size');
    expect(hidden).toBeLessThan(num(transformer.config, 'joint_attention_dim'));
    // A reference image one width to the right fits the positional table at 256 px (16 patches).
    expect(num(transformer.config, 'pos_embed_max_size')).toBeGreaterThanOrEqual(2 * 16);
    // openCheckpoint on the same path gives the same reader view.
    const folder = await folderFromDisk(`${FIXTURES}${name}`);
    expect((await openCheckpoint(folder, 'transformer/diffusion_pytorch_model.safetensors')).keys()).toEqual(transformer.weights.keys());
  });

  it('has CLIP BPE tokenizers as the real folders do (vocab.json + merges.txt, no tokenizer.json)', async () => {
    const d = await describeFolder();
    const folder = await folderFromDisk(`${FIXTURES}${name}`);
    for (const [tokenizer, pad] of [
      ['tokenizer', '<|endoftext|>'],
      ['tokenizer_2', '!'],
    ] as const) {
      const t = d.tokenizers.find((x) => x.name === tokenizer)!;
      expect([...t.files].sort()).toEqual([`${tokenizer}/merges.txt`, `${tokenizer}/special_tokens_map.json`, `${tokenizer}/tokenizer_config.json`, `${tokenizer}/vocab.json`]);
      expect(t.config).toMatchObject({ model_max_length: 77, pad_token: pad, tokenizer_class: 'CLIPTokenizer' });
      const vocab = JSON.parse(new TextDecoder().decode(await folder.open(`${tokenizer}/vocab.json`)!.read(0, folder.open(`${tokenizer}/vocab.json`)!.size))) as Record<string, number>;
      expect(Object.keys(vocab)).toHaveLength(num(getComponent(d, 'text_encoder').config, 'vocab_size'));
      expect(vocab).toMatchObject({ '!': 0, '<|startoftext|>': 998, '<|endoftext|>': 999 });
    }
  });

  it('has the reference outputs reference/index.json describes', async () => {
    const index = await readIndex(name);
    expect(index.model).toBe(name);
    expect(index.versions.diffusers).toBe('0.42.1');
    const velocity = await readNpy(`${FIXTURES}${name}/reference/velocity.npy`);
    expect(velocity.shape).toEqual(index.files['velocity.npy']!.shape);
    expect(velocity.shape).toEqual([1, 16, 32, 32]);
    expect(index.files['prompt_embeds.npy']!.shape).toEqual([1, 77 + 256, 128]);
    expect(index.files['image.npy']!.shape).toEqual([1, 256, 256, 3]);
    for (const [file, entry] of Object.entries(index.files)) {
      const bytes = new Uint8Array(await readFile(`${FIXTURES}${name}/reference/${file}`));
      expect(bytes.byteLength, file).toBe(entry.bytes);
      if (entry.dtype === 'float32') {
        expect(decodeNpy(bytes, file).shape, file).toEqual(entry.shape);
      } else {
        // Token ids are int64, which npy.ts does not decode: check the header, and the ids are in index.json.
        const headerLength = bytes[8]! | (bytes[9]! << 8);
        const header = parseNpyHeader(new TextDecoder('latin1').decode(bytes.subarray(10, 10 + headerLength)), file);
        expect(header, file).toMatchObject({ descr: '<i8', shape: entry.shape });
      }
    }
    for (const t of index.token_ids) {
      expect(t.ids).toHaveLength(index.prompts.length);
      for (const ids of t.ids) {
        expect(ids).toHaveLength(77);
        expect(ids[0]).toBe(998);
        expect(ids).toContain(999);
      }
    }
  });
});
