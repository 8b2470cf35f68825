/** Two gallery images side by side, with the settings that differ between them marked. */
import type { GalleryEntry } from '../../state/gallery-store';
import { Modal } from './Modal';
import { RequestDiff } from './RequestDetails';
import { useBlobUrl } from './useBlobUrl';

function Side({ entry, label }: { entry: GalleryEntry; label: string }) {
  const image = useBlobUrl(entry.pngId);
  return (
    <figure className="gallery-compare-side" data-entry-id={entry.id}>
      {image.status === 'ready' ? <img src={image.url} alt={entry.request.prompt} /> : <div className="gallery-compare-missing muted">{image.status === 'missing' ? 'missing' : 'loading…'}</div>}
      <figcaption>
        {label}: seed {entry.request.seed}
      </figcaption>
    </figure>
  );
}

export function CompareDialog({ left, right, onClose }: { left: GalleryEntry; right: GalleryEntry; onClose(): void }) {
  return (
    <Modal label="Compare two images" testId="gallery.compare-view" onClose={onClose} className="wide">
      <div className="gallery-compare">
        <div className="gallery-compare-images">
          <Side entry={left} label="A" />
          <Side entry={right} label="B" />
        </div>
        <RequestDiff left={left} right={right} />
      </div>
    </Modal>
  );
}
