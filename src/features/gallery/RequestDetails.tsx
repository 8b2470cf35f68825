/** A gallery request in words: one list of fields, shown for one image and side by side for two. */
import type { GalleryEntry } from '../../state/gallery-store';
import { formatDuration } from '../generate/timing';

export interface Field {
  label: string;
  value: string;
}

export function requestFields(entry: GalleryEntry): Field[] {
  const r = entry.request;
  const s = r.settings;
  return [
    { label: 'Prompt', value: r.prompt },
    { label: 'Negative', value: r.negativePrompt || '—' },
    {
      label: 'Subjects',
      value: r.subjects.length ? r.subjects.map((x) => `@${x.name} (${x.classWord || 'no class word'}, ${x.images.length} photo${x.images.length === 1 ? '' : 's'}, strength ${x.strength})`).join('; ') : 'none',
    },
    { label: 'Size', value: `${entry.width}×${entry.height}` },
    { label: 'Seed', value: String(r.seed) },
    { label: 'Steps', value: String(s.steps) },
    { label: 'Guidance', value: `text ${s.textGuidance} · reference ${s.refGuidance}` },
    { label: 'Reference drop', value: s.dropRatio > 0 ? `${s.dropRatio} (${s.dropSchedule})` : 'off' },
    { label: 'Reference mode', value: s.refMode },
    { label: 'Pack', value: `${r.pack.name} v${r.pack.version}` },
    { label: 'Time', value: entry.ms > 0 ? formatDuration(entry.ms) : 'imported' },
  ];
}

export function RequestDetails({ entry }: { entry: GalleryEntry }) {
  return (
    <dl className="gallery-details" data-testid="gallery.details">
      {requestFields(entry).map((f) => (
        <div key={f.label}>
          <dt>{f.label}</dt>
          <dd>{f.value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Both requests field by field; the fields that differ are marked. */
export function RequestDiff({ left, right }: { left: GalleryEntry; right: GalleryEntry }) {
  const a = requestFields(left);
  const b = requestFields(right);
  return (
    <table className="gallery-diff">
      <tbody>
        {a.map((f, i) => {
          const other = b[i]!;
          const differs = f.value !== other.value;
          return (
            <tr key={f.label} className={differs ? 'differs' : undefined} data-differs={differs}>
              <th scope="row">{f.label}</th>
              <td>{f.value}</td>
              <td>{other.value}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
