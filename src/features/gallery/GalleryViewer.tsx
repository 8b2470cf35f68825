/** One gallery image, large, with its request and what can be done with it. Arrow keys move, Escape closes. */
import type { KeyboardEvent } from 'react';
import type { GalleryEntry } from '../../state/gallery-store';
import { downloadName } from './gallery-io';
import { Modal } from './Modal';
import { RequestDetails } from './RequestDetails';
import { useBlobUrl } from './useBlobUrl';

interface Props {
  entries: GalleryEntry[];
  id: string;
  onSelect(id: string): void;
  onClose(): void;
  onReuse(entry: GalleryEntry): void;
  onDelete(entry: GalleryEntry): void;
}

export function GalleryViewer({ entries, id, onSelect, onClose, onReuse, onDelete }: Props) {
  const index = entries.findIndex((e) => e.id === id);
  const entry = entries[index];
  const image = useBlobUrl(entry?.pngId ?? '');
  if (!entry) return null;
  const move = (delta: number) => {
    const next = entries[index + delta];
    if (next) onSelect(next.id);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDialogElement>) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') move(-1);
    else if (e.key === 'ArrowRight' || e.key === 'ArrowDown') move(1);
    else return;
    e.preventDefault();
  };
  const url = image.status === 'ready' ? image.url : undefined;
  return (
    <Modal label={`Image ${index + 1} of ${entries.length}`} testId="gallery.view" onClose={onClose} onKeyDown={onKeyDown}>
      <div className="gallery-view" data-entry-id={entry.id} data-index={index}>
        {/* Sized from the entry before the PNG loads, so the dialog does not jump. */}
        <div className="gallery-view-image" style={{ aspectRatio: `${entry.width} / ${entry.height}` }}>
          {url ? <img src={url} alt={entry.request.prompt} /> : <p className="muted">{image.status === 'missing' ? 'The image file is missing from storage.' : 'Loading…'}</p>}
        </div>
        <div className="gallery-view-side">
          <div className="gallery-view-nav">
            <button type="button" onClick={() => move(-1)} disabled={index === 0} aria-label="Previous image">
              ‹
            </button>
            <span>
              {index + 1} of {entries.length}
            </span>
            <button type="button" onClick={() => move(1)} disabled={index === entries.length - 1} aria-label="Next image">
              ›
            </button>
          </div>
          <RequestDetails entry={entry} />
          <div className="gallery-view-actions">
            <button type="button" data-testid="gallery.reuse" onClick={() => onReuse(entry)} title="Put this prompt, its subjects and settings (with this seed) back">
              Reuse
            </button>
            <a className="button-like" data-testid="gallery.download" href={url} download={downloadName(entry)} aria-disabled={!url}>
              Download PNG
            </a>
            <button type="button" className="danger" data-testid="gallery.delete" onClick={() => onDelete(entry)}>
              Delete
            </button>
          </div>
        </div>
      </div>
    </Modal>
  );
}
