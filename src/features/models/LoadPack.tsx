/** Load another pack: from a URL (a pack folder on a server) or from a folder on this computer. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { errorText } from '../../app/format';
import { DEFAULT_PACK_URL } from '../../engine-client/url-params';
import { useStudioStore } from '../../state/studio-store';
import { loadPackFromFolder, loadPackFromUrl, type PickedFile } from './pack-load';

type Job = { kind: 'url'; url: string } | { kind: 'folder'; files: PickedFile[] };

export function LoadPack() {
  const id = useId();
  const client = useQueryClient();
  const backend = useStudioStore((s) => s.backendPreference);
  const current = useStudioStore((s) => s.packUrl);
  const [url, setUrl] = useState('');
  const load = useMutation({
    mutationFn: (job: Job) => (job.kind === 'url' ? loadPackFromUrl(client, backend, job.url) : loadPackFromFolder(client, backend, job.files)),
    onSuccess: () => setUrl(''),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    load.mutate({ kind: 'url', url });
  };

  return (
    <div className="pack-load">
      <form className="pack-load-row" onSubmit={submit}>
        <label htmlFor={`${id}-url`} className="visually-hidden">
          Pack URL
        </label>
        <input
          id={`${id}-url`}
          type="text"
          inputMode="url"
          data-testid="pack.url"
          placeholder="https://…/my-pack"
          value={url}
          disabled={load.isPending}
          title="The URL of a pack folder: the folder that holds manifest.json."
          aria-describedby={`${id}-help`}
          onChange={(e) => setUrl(e.target.value)}
        />
        <button type="submit" data-testid="pack.load" disabled={load.isPending || !url.trim()} title="Load the pack at this URL and switch to it.">
          Load
        </button>
      </form>
      <label className={`pack-folder-button${load.isPending ? ' disabled' : ''}`} title="Load a pack from a folder on this computer (the folder that holds manifest.json).">
        Load a folder…
        <input
          type="file"
          className="visually-hidden"
          data-testid="pack.folder"
          multiple
          disabled={load.isPending}
          aria-describedby={`${id}-help`}
          // webkitdirectory is not in React's types; every current browser supports it.
          ref={(el) => el?.setAttribute('webkitdirectory', '')}
          onChange={(e) => {
            const files = Array.from(e.target.files ?? [], (f) => ({ path: f.webkitRelativePath || f.name, blob: f }));
            e.target.value = '';
            if (files.length) load.mutate({ kind: 'folder', files });
          }}
        />
      </label>
      {current !== DEFAULT_PACK_URL && (
        <button
          type="button"
          className="link-button"
          data-testid="pack.builtin"
          disabled={load.isPending}
          title="Go back to the built-in (untrained) test pack."
          onClick={() => load.mutate({ kind: 'url', url: DEFAULT_PACK_URL })}
        >
          Back to the built-in test pack
        </button>
      )}
      <p id={`${id}-help`} className="visually-hidden">
        A pack is a folder with manifest.json and the files it lists; the studio switches to it once every file checks out.
      </p>
      <div aria-live="polite">
        {load.isPending && (
          <p className="muted pack-loading" data-testid="pack.loading">
            Loading {load.variables.kind === 'url' ? load.variables.url.trim() : 'the folder'}…
          </p>
        )}
      </div>
      {load.isError && (
        <div className="pack-error" role="alert" data-testid="pack.error">
          <p>Could not load that pack; the studio stays on the current one.</p>
          <pre>{errorText(load.error)}</pre>
        </div>
      )}
    </div>
  );
}
