import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSource, folderFromDisk } from './node-source';
import { openSafetensors } from './safetensors';
import { blobSource, folderFromFiles } from './source';
import { recordingSource, writeSafetensors } from './testing/safetensors-writer';

const tensors = () =>
  writeSafetensors({
    'proj_out.weight': { dtype: 'F16', shape: [4, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] },
    'proj_out.bias': { dtype: 'BF16', shape: [4], values: [0.5, -0.25, 8, 0] },
  });

describe('blobSource', () => {
  it('reads tensors through Blob.slice', async () => {
    const bytes = tensors();
    const source = recordingSource(blobSource('transformer/diffusion_pytorch_model.safetensors', new Blob([bytes as BlobPart])));
    expect(source.size).toBe(bytes.byteLength);
    const file = await openSafetensors(source);
    expect([...(await file.readTensor('proj_out.bias'))]).toEqual([0.5, -0.25, 8, 0]);
    expect([...(await file.readTensor('proj_out.weight', { rows: [3, 4] }))]).toEqual([10, 11, 12]);
    const info = file.info('proj_out.bias');
    expect(source.reads.at(-2)).toEqual([info.begin, info.end]);
    await expect(source.read(0, bytes.byteLength + 1)).rejects.toThrow(RangeError);
  });
});

describe('folderFromFiles', () => {
  it('strips the common top folder of a dropped folder', () => {
    const blob = new Blob(['{}']);
    const folder = folderFromFiles([
      { path: 'stable-diffusion-3-medium-diffusers/model_index.json', blob },
      { path: 'stable-diffusion-3-medium-diffusers/transformer/config.json', blob },
      { path: 'stable-diffusion-3-medium-diffusers\\vae\\config.json', blob },
    ]);
    expect(folder.list()).toEqual(['model_index.json', 'transformer/config.json', 'vae/config.json']);
    expect(folder.open('transformer/config.json')?.name).toBe('transformer/config.json');
    expect(folder.open('./vae//config.json')?.size).toBe(2);
    expect(folder.open('stable-diffusion-3-medium-diffusers/model_index.json')).toBeUndefined();
  });

  it('keeps paths that do not share one top folder', () => {
    const blob = new Blob(['x']);
    expect(folderFromFiles([{ path: 'model_index.json', blob }, { path: 'vae/config.json', blob }]).list()).toEqual(['model_index.json', 'vae/config.json']);
    expect(folderFromFiles([{ path: 'a/x', blob }, { path: 'b/y', blob }]).list()).toEqual(['a/x', 'b/y']);
    expect(folderFromFiles([]).list()).toEqual([]);
  });
});

describe('fileSource and folderFromDisk', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convert-source-'));
    await mkdir(join(dir, 'transformer'));
    await mkdir(join(dir, '.cache'));
    await writeFile(join(dir, 'transformer', 'diffusion_pytorch_model.safetensors'), tensors());
    await writeFile(join(dir, 'model_index.json'), '{"_class_name": "StableDiffusion3Pipeline"}');
    await writeFile(join(dir, '.cache', 'junk'), 'x');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a temp file at positions', async () => {
    const path = join(dir, 'transformer', 'diffusion_pytorch_model.safetensors');
    const source = recordingSource(await fileSource(path, 'transformer/diffusion_pytorch_model.safetensors'));
    expect(source.size).toBe(tensors().byteLength);
    const file = await openSafetensors(source);
    expect([...(await file.readTensor('proj_out.weight'))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect([...(await file.readTensor('proj_out.bias'))]).toEqual([0.5, -0.25, 8, 0]);
    const weight = file.info('proj_out.weight');
    expect(source.reads.slice(2)).toEqual([
      [weight.begin, weight.end],
      [file.info('proj_out.bias').begin, file.info('proj_out.bias').end],
    ]);
    expect((await fileSource(path)).name).toBe(path);
  });

  it('lists a folder on disk with / paths, skipping dot folders', async () => {
    const folder = await folderFromDisk(dir);
    expect(folder.list()).toEqual(['model_index.json', 'transformer/diffusion_pytorch_model.safetensors']);
    const source = folder.open('transformer/diffusion_pytorch_model.safetensors')!;
    expect(source.name).toBe('transformer/diffusion_pytorch_model.safetensors');
    expect((await openSafetensors(source)).keys()).toEqual(['proj_out.weight', 'proj_out.bias']);
  });
});
