/**
 * A diffusers folder -> studio pack, whichever family it holds: the folder is inspected once
 * (workers/convert/folder.ts says what it is, or why it is not a model the studio converts) and
 * handed to its family's converter. `npm run convert` and the studio's folder drop both call this.
 */
import type { PackManifest } from '../pack/manifest';
import type { ConversionFacts } from './conversion-facts';
import { flux2ConversionFacts } from './flux2/conversion-facts';
import { convertFlux2Folder, type Flux2ConvertOptions } from './flux2/convert';
import { inspectModelFolder, type ModelFolderDescription } from './folder';
import { sd3ConversionFacts } from './sd3/conversion-facts';
import { convertSd3Folder } from './sd3/convert';
import type { FolderSource } from './source';

const isFlux2 = (d: ModelFolderDescription): boolean => d.family === 'flux2-klein' || d.family === 'flux2-klein-kv';

/** What converting this folder offers and needs (sizes, int4 block, least storage), before any weight is read. */
export function conversionFacts(description: ModelFolderDescription): ConversionFacts {
  return isFlux2(description) ? flux2ConversionFacts(description) : sd3ConversionFacts(description);
}

/** `inspected`: the folder's description when the caller already has it (the browser checks memory and storage with it first). */
export async function convertModelFolder(
  folder: FolderSource,
  opts: Flux2ConvertOptions,
  inspected?: ModelFolderDescription,
): Promise<{ manifest: PackManifest; files: Map<string, Uint8Array>; description: ModelFolderDescription }> {
  const description = inspected ?? (await inspectModelFolder(folder));
  if (isFlux2(description)) return { ...(await convertFlux2Folder(folder, description, opts)), description };
  return convertSd3Folder(folder, opts, description);
}
