/**
 * A FLUX.2 folder whose parts do not belong together is refused before the transformer is read,
 * saying both numbers: here the klein 4B fixture with the text encoder of the 9B-kv fixture (Qwen3
 * hidden 24 -> 3 taps x 24 = 72 wide prompt embeddings; the 4B transformer's joint_attention_dim is 48).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { convertModelFolder } from '../convert-folder';
import { ConvertError } from '../errors';
import { folderFromDisk } from '../node-source';
import { folderFromSources, type FolderSource } from '../source';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/flux2/', import.meta.url));

/** `base` with every file of `dir`/ taken from `donor`. */
function withComponentFrom(base: FolderSource, donor: FolderSource, dir: string): FolderSource {
  const from = (f: FolderSource, p: string) => Object.assign(f.open(p)!, { path: p });
  return folderFromSources([
    ...base.list().filter((p) => !p.startsWith(`${dir}/`)).map((p) => from(base, p)),
    ...donor.list().filter((p) => p.startsWith(`${dir}/`)).map((p) => from(donor, p)),
  ]);
}

describe('a FLUX.2 folder with a text encoder of another model', () => {
  it('is refused with both widths, naming text_encoder/config.json', async () => {
    const klein4b = await folderFromDisk(join(FIXTURES, 'klein-4b'));
    const klein9b = await folderFromDisk(join(FIXTURES, 'klein-9b-kv'));
    const mixed = withComponentFrom(klein4b, klein9b, 'text_encoder');
    const e = await convertModelFolder(mixed, { precision: 'fp32', sizes: [64], maxTextTokens: 64 }).then(
      () => expect.fail('it should have been refused'),
      (err: unknown) => err as ConvertError,
    );
    expect(e).toBeInstanceOf(ConvertError);
    expect(e.code).toBe('wrong-model');
    expect(e.file).toBe('text_encoder/config.json');
    expect(e.message).toMatch(/text_encoder\/ \(Qwen3, hidden size \d+\) gives 3 x \d+ = \d+ wide prompt embeddings, but the transformer's joint_attention_dim is 48: the text encoder belongs to another FLUX\.2 model/);
    // The folder as made converts.
    await expect(convertModelFolder(klein4b, { precision: 'fp32', sizes: [64], maxTextTokens: 64 })).resolves.toBeDefined();
  });
});
