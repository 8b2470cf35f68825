/**
 * A diffusers folder -> studio pack, whichever family it holds: the folder is inspected once
 * (workers/convert/folder.ts says what it is, or why it is not a model the studio converts) and
 * handed to its family's converter. `npm run convert` and the studio's folder drop both call this.
 */
import type { PackManifest } from '../pack/manifest';
import { convertFlux2Folder, type Flux2ConvertOptions } from './flux2/convert';
import { inspectModelFolder, type ModelFolderDescription } from './folder';
import { convertSd3Folder } from './sd3/convert';
import type { FolderSource } from './source';

export async function convertModelFolder(folder: FolderSource, opts: Flux2ConvertOptions): Promise<{ manifest: PackManifest; files: Map<string, Uint8Array>; description: ModelFolderDescription }> {
  const description = await inspectModelFolder(folder);
  if (description.family === 'flux2-klein' || description.family === 'flux2-klein-kv') return { ...(await convertFlux2Folder(folder, description, opts)), description };
  return convertSd3Folder(folder, opts, description);
}
