/**
 * The photo worker: decodes, downscales, hashes and thumbnails photos away
 * from the main thread (see photo-pipeline.ts). One per page, started on
 * first use by photo-client.ts.
 */
import { expose } from 'comlink';
import { preparePhoto, renderThumbnail } from './photo-pipeline';

const api = { preparePhoto, renderThumbnail };
export type PhotoWorkerApi = typeof api;

expose(api);
