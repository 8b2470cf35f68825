import { describe, expect, it } from 'vitest';
import { ConvertError } from './errors';
import { findWeights, getComponent, inspectModelFolder } from './folder';
import { folderFromFiles } from './source';
import { kleinFolder, sd3Folder, type FolderFiles } from './testing/model-folders';
import { memoryFolder, writeSafetensors } from './testing/safetensors-writer';

async function failure(files: FolderFiles): Promise<ConvertError> {
  try {
    await inspectModelFolder(memoryFolder(files));
  } catch (error) {
    expect(error).toBeInstanceOf(ConvertError);
    return error as ConvertError;
  }
  throw new Error('expected a ConvertError');
}

function without(files: FolderFiles, dir: string): FolderFiles {
  return Object.fromEntries(Object.entries(files).filter(([path]) => !path.startsWith(`${dir}/`)));
}

describe('inspectModelFolder: supported models', () => {
  it('SD3 Medium, with T5 in two shards', async () => {
    const d = await inspectModelFolder(memoryFolder(sd3Folder()));
    expect(d).toMatchObject({ family: 'sd3', variant: 'medium', label: 'Stable Diffusion 3 Medium', pipelineClass: 'StableDiffusion3Pipeline', diffusersVersion: '0.29.0.dev0' });
    expect(d.components.map((c) => c.name)).toEqual(['transformer', 'vae', 'text_encoder', 'text_encoder_2', 'text_encoder_3']);
    expect(d.tokenizers.map((t) => t.name)).toEqual(['tokenizer', 'tokenizer_2', 'tokenizer_3']);
    expect(d.skipped).toEqual([]);
    const t5 = getComponent(d, 'text_encoder_3');
    expect(t5.className).toBe('T5EncoderModel');
    expect(t5.weights.files).toHaveLength(2);
    expect(t5.weights.info('encoder.final_layer_norm.weight').file).toBe('text_encoder_3/model-00002-of-00002.safetensors');
    const transformer = getComponent(d, 'transformer');
    expect(transformer.config.num_layers).toBe(24);
    expect(transformer.weights.keys()).toEqual(['proj_out.weight', 'proj_out.bias']);
    expect(d.scheduler.config.shift).toBe(3);
    expect(d.licence).toMatchObject({ id: 'other', name: 'stabilityai-ai-community', link: 'LICENSE.md', file: 'LICENSE.md' });
    expect(d.licence?.text).toContain('COMMUNITY LICENSE');
  });

  it('SD3 without T5: the T5 encoder and tokenizer are skipped, not missing', async () => {
    const d = await inspectModelFolder(memoryFolder(sd3Folder({ withoutT5: true })));
    expect(d.components.map((c) => c.name)).toEqual(['transformer', 'vae', 'text_encoder', 'text_encoder_2']);
    expect(d.skipped.map((s) => s.name)).toEqual(['text_encoder_3', 'tokenizer_3']);
    expect(d.skipped[0]?.note).toContain('no T5');
  });

  it('SD3.5 Medium: qk_norm and dual attention layers', async () => {
    const d = await inspectModelFolder(memoryFolder(sd3Folder({ v35: true })));
    expect(d).toMatchObject({ family: 'sd3.5', variant: 'medium', label: 'Stable Diffusion 3.5 Medium' });
  });

  it('FLUX.2 klein 4B (distilled, sharded transformer)', async () => {
    const d = await inspectModelFolder(memoryFolder(kleinFolder()));
    expect(d).toMatchObject({ family: 'flux2-klein', variant: '4B', label: 'FLUX.2 klein 4B', distilled: true, pipelineClass: 'Flux2KleinPipeline' });
    expect(d.components.map((c) => c.name)).toEqual(['transformer', 'vae', 'text_encoder']);
    expect(getComponent(d, 'transformer').weights.files).toHaveLength(2);
    expect(d.tokenizers[0]?.files).toEqual(['tokenizer/tokenizer.json', 'tokenizer/tokenizer_config.json']);
    expect(d.licence).toEqual({ id: 'apache-2.0' });
    expect(d.warnings).toEqual([]);
  });

  it('FLUX.2 klein 9B KV, and the base model', async () => {
    const kv = await inspectModelFolder(memoryFolder(kleinFolder({ size: '9B', kv: true })));
    expect(kv).toMatchObject({ family: 'flux2-klein-kv', variant: '9B', label: 'FLUX.2 klein 9B KV', pipelineClass: 'Flux2KleinKVPipeline' });
    expect(kv.warnings.join(' ')).toContain('Non-Commercial');
    const base = await inspectModelFolder(memoryFolder(kleinFolder({ distilled: false })));
    expect(base).toMatchObject({ family: 'flux2-klein', variant: '4B', label: 'FLUX.2 klein base 4B', distilled: false });
  });

  it('a tiny test config is identified as custom', async () => {
    const files = kleinFolder();
    files['transformer/config.json'] = { _class_name: 'Flux2Transformer2DModel', num_layers: 1, num_single_layers: 1, num_attention_heads: 2, joint_attention_dim: 16 };
    const d = await inspectModelFolder(memoryFolder(files));
    expect(d.variant).toBe('custom');
    expect(d.label).toBe('FLUX.2 klein (custom: 1 double + 1 single blocks, 2 heads, joint dim 16)');
  });

  it('works through a dropped folder (folderFromFiles)', async () => {
    const files = Object.entries(sd3Folder()).map(([path, content]) => ({
      path: `sd3-medium/${path}`,
      blob: new Blob([content instanceof Uint8Array ? (content as BlobPart) : typeof content === 'string' ? content : JSON.stringify(content)]),
    }));
    const d = await inspectModelFolder(folderFromFiles(files));
    expect(d.family).toBe('sd3');
    expect(getComponent(d, 'transformer').weights.name).toBe('transformer/diffusion_pytorch_model.safetensors');
  });
});

describe('inspectModelFolder: other models', () => {
  const other = (modelIndex: Record<string, unknown>, extra: FolderFiles = {}) => failure({ 'model_index.json': modelIndex, ...extra });

  it('SDXL', async () => {
    const error = await other({ _class_name: 'StableDiffusionXLPipeline', unet: ['diffusers', 'UNet2DConditionModel'] });
    expect(error.code).toBe('wrong-model');
    expect(error.message).toContain('this is an SDXL folder; the studio converts SD3, SD3.5 and FLUX.2 klein');
  });

  it('FLUX.1', async () => {
    const error = await other({ _class_name: 'FluxPipeline' });
    expect(error.code).toBe('wrong-model');
    expect(error.message).toContain('this is a FLUX.1 folder');
  });

  it('FLUX.2 dev', async () => {
    const error = await other({ _class_name: 'Flux2Pipeline' });
    expect(error.code).toBe('wrong-model');
    expect(error.message).toContain('FLUX.2 dev');
    expect(error.message).toContain('not supported: its 32B transformer does not fit a browser');
  });

  it('SD 1.x / 2.x, PixArt and unknown pipelines', async () => {
    expect((await other({ _class_name: 'StableDiffusionPipeline' }, { 'unet/config.json': { cross_attention_dim: 768 } })).message).toContain(
      'this is a Stable Diffusion 1.x folder',
    );
    expect((await other({ _class_name: 'StableDiffusionPipeline' }, { 'unet/config.json': { cross_attention_dim: 1024 } })).message).toContain(
      'Stable Diffusion 2.x',
    );
    expect((await other({ _class_name: 'PixArtSigmaPipeline' })).message).toContain('this is a PixArt folder');
    const unknown = await other({ _class_name: 'FancyNewPipeline' });
    expect(unknown.code).toBe('wrong-model');
    expect(unknown.message).toContain('FancyNewPipeline');
  });

  it('a single-file checkpoint without model_index.json', async () => {
    const sd3 = await failure({ 'sd3_medium_incl_clips.safetensors': writeSafetensors({ 'model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight': { dtype: 'F16', shape: [2] } }) });
    expect(sd3.code).toBe('single-file');
    expect(sd3.message).toContain('sd3_medium_incl_clips.safetensors looks like an SD3 single-file checkpoint');
    expect(sd3.message).toContain('diffusers');
    const flux = await failure({ 'flux-2-klein-4b.safetensors': writeSafetensors({ 'double_stream_modulation_img.lin.weight': { dtype: 'BF16', shape: [2] } }) });
    expect(flux.message).toContain('a FLUX.2 single-file checkpoint');
    const broken = await failure({ 'x.safetensors': 'not a safetensors file' });
    expect(broken.code).toBe('single-file');
    expect(broken.message).toContain('x.safetensors looks like a single-file checkpoint');
  });

  it('no model_index.json: a component folder, a nested model folder, or nothing', async () => {
    const component = await failure({ 'config.json': { _class_name: 'SD3Transformer2DModel' }, 'diffusion_pytorch_model.safetensors': writeSafetensors({}) });
    expect(component.code).toBe('missing-file');
    expect(component.message).toContain('one component folder (config.json says SD3Transformer2DModel)');
    const nested = await failure({ 'models/sd3/model_index.json': {}, 'notes.txt': 'x' });
    expect(nested.message).toContain('open models/sd3/ instead');
    const nothing = await failure({ 'notes.txt': 'x' });
    expect(nothing.code).toBe('missing-file');
    expect(nothing.message).toContain('model_index.json is missing');
  });
});

describe('inspectModelFolder: incomplete folders', () => {
  it('names a missing component with its role', async () => {
    const error = await failure(without(sd3Folder(), 'text_encoder_2'));
    expect(error.code).toBe('missing-component');
    expect(error.message).toBe('text_encoder_2/ is missing (OpenCLIP bigG text encoder)');
    expect(error.file).toBe('text_encoder_2/');
  });

  it('names everything missing at once', async () => {
    const files = without(without(kleinFolder(), 'vae'), 'tokenizer');
    delete files['text_encoder/config.json'];
    const error = await failure(files);
    expect(error.code).toBe('missing-component');
    expect(error.message).toBe(
      'vae/ is missing (FLUX.2 VAE); text_encoder/config.json is missing (Qwen3 text encoder); tokenizer/ is missing (Qwen tokenizer)',
    );
  });

  it('missing weights, .bin-only weights, a broken shard', async () => {
    const noWeights = sd3Folder();
    delete noWeights['vae/diffusion_pytorch_model.safetensors'];
    const a = await failure(noWeights);
    expect(a.code).toBe('missing-file');
    expect(a.message).toBe('vae/ has no .safetensors weights (VAE)');
    noWeights['vae/diffusion_pytorch_model.bin'] = 'pickle';
    expect((await failure(noWeights)).message).toContain('vae/ has only PyTorch .bin weights');

    const brokenShard = sd3Folder();
    brokenShard['text_encoder_3/model-00002-of-00002.safetensors'] = (brokenShard['text_encoder_3/model-00002-of-00002.safetensors'] as Uint8Array).slice(0, -1);
    const b = await failure(brokenShard);
    expect(b.code).toBe('truncated');
    expect(b.message).toContain('text_encoder_3/model-00002-of-00002.safetensors is truncated');
  });

  it('a T5 encoder without its tokenizer is an error', async () => {
    const error = await failure(without(sd3Folder(), 'tokenizer_3'));
    expect(error.message).toBe('tokenizer_3/ is missing (T5 tokenizer)');
  });

  it('bad model_index.json', async () => {
    expect((await failure({ 'model_index.json': '{' })).code).toBe('bad-json');
    expect((await failure({ 'model_index.json': { components: 1 } })).message).toContain('no _class_name');
  });
});

describe('findWeights', () => {
  it('prefers the default name, then fp16 / bf16 variants, then whatever single file there is', () => {
    expect(findWeights(['config.json', 'model.fp16.safetensors', 'model.safetensors'])).toEqual({ file: 'model.safetensors' });
    expect(findWeights(['config.json', 'model.fp16.safetensors'])).toEqual({ file: 'model.fp16.safetensors' });
    expect(findWeights(['diffusion_pytorch_model.safetensors.index.json', 'diffusion_pytorch_model-00001-of-00002.safetensors'])).toEqual({
      file: 'diffusion_pytorch_model.safetensors.index.json',
    });
    expect(findWeights(['model.safetensors.index.fp16.json'])).toEqual({ file: 'model.safetensors.index.fp16.json' });
    expect(findWeights(['weights.safetensors'])).toEqual({ file: 'weights.safetensors' });
    expect(findWeights(['a.safetensors', 'b.safetensors'])?.note).toContain('using a.safetensors');
    expect(findWeights(['pytorch_model.bin'])).toBeUndefined();
  });
});
