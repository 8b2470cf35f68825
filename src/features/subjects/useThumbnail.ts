/**
 * Thumbnails of reference photos with their masks over them, rendered in the
 * photo worker and cached by photo and mask id (both content ids, so a key
 * never goes stale: a repainted mask is a new id).
 */
import { useEffect, useState } from 'react';
import { getBlob } from '../../state/storage';
import type { MaskRef } from '../../state/subjects-store';
import { renderThumbnail } from './photo-client';

/** Pixels per side: a tile is about 80 CSS px, sharp on 2x screens. */
export const THUMB_SIDE = 192;
/** Thumbnails are ~10 KB JPEGs; this many cover four full subjects and a few undone ones. */
const CACHE_SIZE = 48;
const cache = new Map<string, Promise<Blob>>();

async function loadThumbnail(photoId: string, mask: MaskRef | null): Promise<Blob> {
  const photo = await getBlob(photoId);
  if (!photo) throw new Error('the photo is missing from storage');
  const maskBytes = mask ? await getBlob(mask.id) : null;
  if (mask && !maskBytes) throw new Error('the mask is missing from storage');
  return renderThumbnail(photo, mask && maskBytes ? { bytes: maskBytes, width: mask.width, height: mask.height } : null, THUMB_SIDE);
}

function thumbnail(photoId: string, mask: MaskRef | null): Promise<Blob> {
  const key = `${photoId}|${mask?.id ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = loadThumbnail(photoId, mask);
    // A failure is not cached: the next render tries again (storage may have been busy).
    p.catch(() => cache.delete(key));
    cache.set(key, p);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  return p;
}

export type ThumbnailState = { status: 'loading' } | { status: 'ready'; url: string } | { status: 'error'; message: string };

export function useThumbnail(photoId: string, mask: MaskRef | null): ThumbnailState {
  const [state, setState] = useState<{ key: string; value: ThumbnailState }>({ key: '', value: { status: 'loading' } });
  const key = `${photoId}|${mask?.id ?? ''}`;
  const maskId = mask?.id;
  const maskWidth = mask?.width;
  const maskHeight = mask?.height;

  useEffect(() => {
    let alive = true;
    let url: string | null = null;
    const m = maskId && maskWidth && maskHeight ? { id: maskId, width: maskWidth, height: maskHeight } : null;
    thumbnail(photoId, m).then(
      (blob) => {
        if (!alive) return;
        url = URL.createObjectURL(blob);
        setState({ key, value: { status: 'ready', url } });
      },
      (e: unknown) => alive && setState({ key, value: { status: 'error', message: (e as Error).message } }),
    );
    return () => {
      alive = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [key, photoId, maskId, maskWidth, maskHeight]);

  // Until the effect for a new key settles, show loading rather than the previous photo.
  return state.key === key ? state.value : { status: 'loading' };
}
