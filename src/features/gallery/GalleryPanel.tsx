/**
 * The gallery: every generated image with the request that made it. A grid
 * of thumbnails; view one large (arrows move, Escape closes), compare two,
 * reuse a request, download the PNG (request embedded), import a PNG by
 * picking or dropping it, delete with undo.
 */
import { useState, type DragEvent } from 'react';
import { errorText } from '../../app/format';
import { useGalleryStore, type GalleryEntry } from '../../state/gallery-store';
import { CompareDialog } from './CompareDialog';
import { importMessage, importPng } from './gallery-io';
import { GalleryViewer } from './GalleryViewer';
import { reuseRequest } from './request';
import { useBlobUrl } from './useBlobUrl';
import './gallery.css';

interface Message {
  text: string;
  undo?: () => void;
}

function Thumb({ entry }: { entry: GalleryEntry }) {
  const image = useBlobUrl(entry.pngId);
  if (image.status === 'ready') return <img src={image.url} alt={entry.request.prompt} loading="lazy" decoding="async" />;
  return <span className="gallery-thumb-missing muted">{image.status === 'missing' ? 'missing' : ''}</span>;
}

export function GalleryPanel() {
  const entries = useGalleryStore((s) => s.entries);
  const actions = useGalleryStore((s) => s.actions);
  const [viewing, setViewing] = useState<string | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [comparing, setComparing] = useState(false);
  const [message, setMessage] = useState<Message | null>(null);
  const [dropping, setDropping] = useState(false);

  const pair = picked.map((id) => entries.find((e) => e.id === id)).filter((e): e is GalleryEntry => e !== undefined);

  const importFiles = async (files: File[]) => {
    const texts: string[] = [];
    for (const file of files) {
      try {
        texts.push(importMessage(file.name, await importPng(file)));
      } catch (e) {
        texts.push(`“${file.name}” could not be imported: ${errorText(e)}.`);
      }
    }
    if (texts.length) setMessage({ text: texts.join(' ') });
  };

  const reuse = async (entry: GalleryEntry) => {
    setViewing(null);
    const report = await reuseRequest(entry.request);
    const missing = report.missingPhotos.length ? ` Missing from this browser: ${report.missingPhotos.join(', ')}.` : '';
    setMessage({ text: `Restored the prompt, subjects and settings of this image (seed ${entry.request.seed}).${missing}` });
  };

  const remove = (entry: GalleryEntry) => {
    setViewing(null);
    setPicked((p) => p.filter((id) => id !== entry.id));
    const removed = actions.remove(entry.id);
    if (removed) setMessage({ text: 'Deleted the image.', undo: () => actions.restore(removed.entry, removed.index) });
  };

  const togglePick = (id: string) =>
    // Two at most: picking a third lets go of the oldest pick.
    setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-2)));

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDropping(false);
    void importFiles([...e.dataTransfer.files]);
  };

  return (
    <section
      className={`panel gallery-panel${dropping ? ' dropping' : ''}`}
      aria-label="Gallery"
      data-testid="gallery"
      onDragOver={(e) => {
        if (![...e.dataTransfer.types].includes('Files')) return;
        e.preventDefault();
        setDropping(true);
      }}
      onDragLeave={(e) => e.currentTarget === e.target && setDropping(false)}
      onDrop={onDrop}
    >
      <header className="gallery-header">
        <h2>
          Gallery <span className="muted">({entries.length})</span>
        </h2>
        <button type="button" data-testid="gallery.compare" disabled={pair.length !== 2} onClick={() => setComparing(true)} title="Pick two images (their checkboxes) to compare">
          Compare {pair.length}/2
        </button>
        <label className="button-like gallery-import">
          Import PNG…
          <input
            type="file"
            accept="image/png"
            multiple
            data-testid="gallery.import"
            onChange={(e) => {
              const files = [...(e.currentTarget.files ?? [])];
              e.currentTarget.value = '';
              void importFiles(files);
            }}
          />
        </label>
      </header>
      {message && (
        <p className="gallery-message" role="status" data-testid="gallery.message">
          {message.text}{' '}
          {message.undo && (
            <button
              type="button"
              className="link-button"
              data-testid="gallery.undo"
              onClick={() => {
                message.undo?.();
                setMessage({ text: 'The image is back.' });
              }}
            >
              Undo
            </button>
          )}
          <button type="button" className="link-button" aria-label="Dismiss" onClick={() => setMessage(null)}>
            ×
          </button>
        </p>
      )}
      {entries.length === 0 ? (
        <p className="muted gallery-empty">No images yet. Generated images land here; you can also drop a Subject Studio PNG here to restore its request.</p>
      ) : (
        <ul className="gallery-grid">
          {entries.map((entry) => (
            <li key={entry.id} className={`gallery-item${picked.includes(entry.id) ? ' picked' : ''}`} data-testid="gallery.item" data-entry-id={entry.id} data-png-id={entry.pngId}>
              <button type="button" className="gallery-thumb" onClick={() => setViewing(entry.id)} aria-label={`View “${entry.request.prompt}”, seed ${entry.request.seed}`} title={entry.request.prompt}>
                <Thumb entry={entry} />
              </button>
              <label className="gallery-pick" title="Pick for comparison">
                <input type="checkbox" checked={picked.includes(entry.id)} onChange={() => togglePick(entry.id)} aria-label={`Compare “${entry.request.prompt}”`} />
              </label>
            </li>
          ))}
        </ul>
      )}
      {viewing && <GalleryViewer entries={entries} id={viewing} onSelect={setViewing} onClose={() => setViewing(null)} onReuse={(e) => void reuse(e)} onDelete={remove} />}
      {comparing && pair.length === 2 && <CompareDialog left={pair[0]!} right={pair[1]!} onClose={() => setComparing(false)} />}
    </section>
  );
}
