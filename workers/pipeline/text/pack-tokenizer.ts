/** The tokenizer of a loaded pack, read from its verified tokenizer file. */
import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError } from '../../errors';
import type { LoadedPack } from '../../pack/loader';

export async function readPackTokenizer(pack: LoadedPack): Promise<Tokenizer> {
  const file = pack.manifest.tokenizer.file;
  try {
    return new Tokenizer(JSON.parse(await (await pack.files.blob(file)).text()), {});
  } catch (e) {
    throw new EngineError('pack-files-invalid', `the pack's ${file} is not a tokenizer this studio can read: ${(e as Error).message}`, { cause: e });
  }
}
