import { useRef } from 'react';
import { useSubjectsStore, type Subject, type SubjectImage } from '../../state/subjects-store';
import { Icon } from './icons';
import { importPhotos } from './import';
import { useThumbnail } from './useThumbnail';

function PhotoTile({ subject, image }: { subject: Subject; image: SubjectImage }) {
  const thumb = useThumbnail(image.id, image.mask);
  const { select, removeImage } = useSubjectsStore((s) => s.actions);
  const maskNote = image.mask ? 'masked' : 'no mask';
  return (
    <li className="photo-tile" data-testid="subject.image" data-image-id={image.id} data-masked={image.mask ? true : undefined}>
      {thumb.status === 'ready' && (
        <img src={thumb.url} alt={`${image.fileName}, ${image.width}×${image.height}, ${maskNote}`} draggable={false} />
      )}
      {thumb.status === 'loading' && <span className="photo-tile-note" aria-label={`${image.fileName}: loading`} />}
      {thumb.status === 'error' && (
        <span className="photo-tile-note bad" role="img" aria-label={`${image.fileName}: ${thumb.message}`} title={thumb.message}>
          !
        </span>
      )}
      <span className="photo-tile-badge" aria-hidden="true">
        {image.mask ? 'mask' : ''}
      </span>
      <div className="photo-tile-actions">
        <button
          type="button"
          className="icon-button"
          data-testid="subject.editMask"
          aria-label={`Edit mask of ${image.fileName}`}
          title="Paint which part of the photo is the subject"
          onClick={() => select(subject.id, image.id)}
        >
          <Icon name="brush" size={14} />
        </button>
        <button
          type="button"
          className="icon-button"
          data-testid="subject.removeImage"
          aria-label={`Remove ${image.fileName}`}
          title="Remove this photo"
          onClick={() => removeImage(subject.id, image.id)}
        >
          <Icon name="close" size={14} />
        </button>
      </div>
    </li>
  );
}

/** The reference photos of one subject, each with its mask, and the file picker that adds more. */
export function PhotoStrip({ subject }: { subject: Subject }) {
  const input = useRef<HTMLInputElement>(null);
  const max = useSubjectsStore((s) => s.limits.maxImagesPerSubject);
  const full = subject.images.length >= max;
  return (
    <div className="photo-strip">
      <div className="subject-label">
        Photos{' '}
        <span className="muted" data-testid="subject.image-count">
          {subject.images.length} of {max}
        </span>
      </div>
      <ul className="photo-grid" aria-label={`Photos of @${subject.name}`}>
        {subject.images.map((image) => (
          <PhotoTile key={image.id} subject={subject} image={image} />
        ))}
        {!full && (
          <li className="photo-tile photo-add">
            <button
              type="button"
              data-testid="subject.addPhotos"
              aria-label={`Add photos to @${subject.name}`}
              title="Choose photos, or drop them here, or paste one (Ctrl+V)"
              onClick={() => input.current?.click()}
            >
              <Icon name="plus" size={20} />
              <span className="photo-add-text">{subject.images.length === 0 ? 'Add photos' : 'Add'}</span>
            </button>
          </li>
        )}
      </ul>
      {subject.images.length === 0 && <p className="subject-hint">Drop 1 to {max} photos of the subject here, choose files or paste (Ctrl+V).</p>}
      <input
        ref={input}
        type="file"
        accept="image/*"
        multiple
        hidden
        data-testid="subject.file-input"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          // Reset so choosing the same file again still fires a change.
          e.target.value = '';
          if (files.length > 0) void importPhotos(files, { subjectId: subject.id });
        }}
      />
    </div>
  );
}
