/** An object URL for a stored blob (a gallery PNG), revoked when the component lets go of it. */
import { useEffect, useState } from 'react';
import { getBlob } from '../../state/storage';

export type BlobUrlState = { status: 'loading' } | { status: 'ready'; url: string } | { status: 'missing' };

export function useBlobUrl(id: string): BlobUrlState {
  const [state, setState] = useState<{ id: string; value: BlobUrlState }>({ id, value: { status: 'loading' } });
  useEffect(() => {
    let url: string | null = null;
    let alive = true;
    getBlob(id).then(
      (blob) => {
        if (!alive) return;
        if (!blob) return setState({ id, value: { status: 'missing' } });
        url = URL.createObjectURL(blob);
        setState({ id, value: { status: 'ready', url } });
      },
      () => alive && setState({ id, value: { status: 'missing' } }),
    );
    return () => {
      alive = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [id]);
  // A state left from the previous id is not this blob's.
  return state.id === id ? state.value : { status: 'loading' };
}
