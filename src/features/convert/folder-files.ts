/**
 * The files of a model folder the user picked (<input webkitdirectory>) or
 * dropped (a directory entry, walked). Paths keep the folder's own name
 * first; the worker strips it. Hidden files and folders (.git, .cache of a
 * Hugging Face download) are left out: the model never needs them.
 */
import type { DroppedFile } from '../../engine-client/engine';

const isHidden = (path: string) => path.split('/').some((part) => part.startsWith('.'));

export function filesFromInput(list: FileList | readonly File[]): DroppedFile[] {
  return Array.from(list, (f) => ({ path: f.webkitRelativePath || f.name, file: f as Blob })).filter((f) => !isHidden(f.path));
}

/** The structural part of FileSystemEntry this walk uses (so tests can hand it plain objects). */
export interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
  file?(success: (f: File) => void, failure?: (e: DOMException) => void): void;
  createReader?(): { readEntries(success: (entries: EntryLike[]) => void, failure?: (e: DOMException) => void): void };
}

async function walk(entry: EntryLike, out: DroppedFile[]): Promise<void> {
  if (entry.name.startsWith('.')) return;
  if (entry.isFile && entry.file) {
    const file = await new Promise<File>((resolve, reject) => entry.file!(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\/+/, ''), file });
  } else if (entry.isDirectory && entry.createReader) {
    const reader = entry.createReader();
    // readEntries gives the entries in batches (100 in Chromium) until an empty one.
    for (;;) {
      const batch = await new Promise<EntryLike[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, out);
    }
  }
}

/** Every file under the dropped entries. */
export async function filesFromEntries(entries: readonly EntryLike[]): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  for (const entry of entries) await walk(entry, out);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The entries of a drop: taken synchronously, while the event runs (the
 * browser empties the DataTransfer once it returns). Plain files where the
 * browser gives no entries.
 */
export function entriesOfDrop(dt: DataTransfer): { entries: EntryLike[]; files: DroppedFile[] } {
  const entries = Array.from(dt.items, (item) => (item.kind === 'file' ? item.webkitGetAsEntry() : null)).filter((e): e is FileSystemEntry => e !== null);
  return { entries: entries as unknown as EntryLike[], files: entries.length ? [] : filesFromInput(dt.files) };
}
