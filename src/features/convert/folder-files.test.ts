import { describe, expect, it } from 'vitest';
import { filesFromEntries, filesFromInput, type EntryLike } from './folder-files';

const file = (fullPath: string): EntryLike => ({
  isFile: true,
  isDirectory: false,
  name: fullPath.split('/').at(-1)!,
  fullPath,
  file: (ok) => ok(new File([fullPath], fullPath.split('/').at(-1)!)),
});

/** A directory whose reader hands out its children two at a time, as Chromium does in batches of 100. */
const dir = (fullPath: string, children: EntryLike[]): EntryLike => ({
  isFile: false,
  isDirectory: true,
  name: fullPath.split('/').at(-1)!,
  fullPath,
  createReader: () => {
    let at = 0;
    return { readEntries: (ok) => ok(children.slice(at, (at += 2))) };
  },
});

describe('a picked or dropped model folder', () => {
  it('is walked to its last batch of entries, without hidden files, paths under the folder name', async () => {
    const dropped = dir('/sd3', [
      file('/sd3/model_index.json'),
      dir('/sd3/.cache', [file('/sd3/.cache/huggingface/x.lock')]),
      dir('/sd3/vae', [file('/sd3/vae/config.json'), file('/sd3/vae/diffusion_pytorch_model.safetensors'), file('/sd3/vae/.DS_Store')]),
      dir('/sd3/scheduler', [file('/sd3/scheduler/scheduler_config.json')]),
    ]);
    const files = await filesFromEntries([dropped]);
    expect(files.map((f) => f.path)).toEqual(['sd3/model_index.json', 'sd3/scheduler/scheduler_config.json', 'sd3/vae/config.json', 'sd3/vae/diffusion_pytorch_model.safetensors']);
    expect(await files[0]!.file.text()).toBe('/sd3/model_index.json');
  });

  it('keeps the relative paths of a directory input', () => {
    const f = (path: string) => Object.defineProperty(new File(['x'], path.split('/').at(-1)!), 'webkitRelativePath', { value: path });
    expect(filesFromInput([f('sd3/model_index.json'), f('sd3/.git/HEAD')]).map((x) => x.path)).toEqual(['sd3/model_index.json']);
  });
});
