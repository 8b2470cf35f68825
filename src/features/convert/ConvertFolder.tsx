/**
 * "Convert a model folder": a Stable Diffusion 3 / 3.5 or FLUX.2 klein diffusers folder,
 * picked or dropped, is described (which model, what it reads, the sizes it
 * allows), then converted in the engine worker with progress and Cancel. The
 * pack lands in this browser's pack cache and the studio switches to it; a
 * failed or cancelled conversion keeps the cache and the current pack.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type DragEvent } from 'react';
import { formatBytes } from '../../app/format';
import {
  convertFolderInEngine,
  getEngine,
  inspectFolderInEngine,
  type ConvertFolderInfo,
  type ConvertFolderOptions,
  type ConvertFolderProgress,
  type ConvertPrecision,
  type DroppedFile,
  type PackSummary,
} from '../../engine-client/engine';
import { storageKey } from '../../engine-client/queries';
import { useStudioStore } from '../../state/studio-store';
import { formatDuration } from '../models/pack-progress-text';
import { cachedPacksKey } from '../models/CachedPacks';
import { loadPackWith } from '../models/pack-load';
import { convertErrorText, convertProgressFraction, convertProgressText, folderSummary } from './convert-text';
import { entriesOfDrop, filesFromEntries, filesFromInput } from './folder-files';
import './convert.css';

function precisionLabel(p: ConvertPrecision, info: ConvertFolderInfo): string {
  if (p === 'int4') return `int4${info.int4BlockSize !== 32 ? `, blocks of ${info.int4BlockSize}` : ''} (smallest)`;
  if (p === 'fp16') return 'fp16 (half of fp32)';
  return p === 'fp32' ? 'fp32 (largest)' : 'int8';
}

interface Picked {
  name: string;
  files: DroppedFile[];
}

function ErrorBox({ error, testId }: { error: unknown; testId: string }) {
  const { title, detail } = convertErrorText(error);
  return (
    <div className="pack-error" role="alert" data-testid={testId}>
      <p>{title}</p>
      {detail && <pre>{detail}</pre>}
    </div>
  );
}

function Progress({ progress }: { progress: ConvertFolderProgress | null }) {
  const fraction = progress ? convertProgressFraction(progress) : null;
  return (
    <div className="convert-progress" data-testid="convert.progress" role="status">
      <progress max={1} value={fraction ?? undefined} aria-label="Conversion" data-testid="convert.progress.bar" />
      <p data-testid="convert.progress.text">{progress ? convertProgressText(progress) : 'Starting the conversion…'}</p>
      <button type="button" data-testid="convert.cancel" title="Stop converting: nothing is saved, and the studio stays on the current pack." onClick={() => void getEngine().cancelLoad()}>
        Cancel
      </button>
    </div>
  );
}

function Done({ pack, seconds }: { pack: PackSummary; seconds: number | null }) {
  return (
    <p className="convert-done" data-testid="convert.done">
      Converted into <strong>{pack.name}</strong> ({formatBytes(pack.totalBytes)}){seconds !== null ? ` in ${formatDuration(seconds)}` : ''}: it is loaded, and kept in
      this browser&apos;s storage.
    </p>
  );
}

function Options({
  info,
  precision,
  sizes,
  promptRows,
  disabled,
  onPrecision,
  onSizes,
  onPromptRows,
}: {
  info: ConvertFolderInfo;
  precision: ConvertPrecision;
  sizes: number[];
  promptRows: number | null;
  disabled: boolean;
  onPrecision: (p: ConvertPrecision) => void;
  onSizes: (s: number[]) => void;
  onPromptRows: (rows: number) => void;
}) {
  const id = useId();
  return (
    <div className="convert-options">
      <fieldset disabled={disabled}>
        <legend title="Weights of the text encoders and the transformer; the VAE stays fp32.">Precision</legend>
        {info.precisions.map((p) => (
          <label key={p}>
            <input type="radio" name={`${id}-precision`} value={p} data-testid={`convert.precision.${p}`} checked={precision === p} onChange={() => onPrecision(p)} />
            {precisionLabel(p, info)}
          </label>
        ))}
      </fieldset>
      <fieldset disabled={disabled}>
        <legend title={`Square image sizes the pack offers; with subjects this model goes up to ${info.maxSize} px.`}>Sizes</legend>
        {info.sizes.map((s) => (
          <label key={s}>
            <input
              type="checkbox"
              data-testid={`convert.size.${s}`}
              checked={sizes.includes(s)}
              onChange={(e) => onSizes(e.target.checked ? [...sizes, s].sort((a, b) => a - b) : sizes.filter((x) => x !== s))}
            />
            {s} px
          </label>
        ))}
      </fieldset>
      {info.promptRows && promptRows !== null && (
        <fieldset disabled={disabled}>
          <legend title="Every prompt is padded to this many rows and every row takes part in each step: fewer rows make steps faster and take less memory, and cut longer prompts. The model's pipeline uses 512.">
            Prompt rows
          </legend>
          <select data-testid="convert.prompt-rows" value={promptRows} aria-label="Prompt rows" onChange={(e) => onPromptRows(Number(e.target.value))}>
            {info.promptRows.map((r, i) => (
              <option key={r} value={r}>
                {r} tokens{i === 0 ? ' (as the pipeline)' : ''}
              </option>
            ))}
          </select>
        </fieldset>
      )}
    </div>
  );
}

export function ConvertFolder() {
  const id = useId();
  const client = useQueryClient();
  const backend = useStudioStore((s) => s.backendPreference);
  const [picked, setPicked] = useState<Picked | null>(null);
  const [precision, setPrecision] = useState<ConvertPrecision>('int4');
  const [sizes, setSizes] = useState<number[]>([]);
  const [promptRows, setPromptRows] = useState<number | null>(null);
  const [progress, setProgress] = useState<ConvertFolderProgress | null>(null);
  const [seconds, setSeconds] = useState<number | null>(null);
  const [dragging, setDragging] = useState(false);

  const inspect = useMutation({
    mutationFn: (files: DroppedFile[]) => inspectFolderInEngine(files),
    onSuccess: (info) => {
      setPrecision(info.defaultPrecision);
      setSizes(info.defaultSizes);
      setPromptRows(info.promptRows?.[0] ?? null);
    },
  });
  const convert = useMutation({
    mutationFn: ({ files, options }: { files: DroppedFile[]; options: ConvertFolderOptions }) => {
      setProgress(null);
      const started = performance.now();
      return loadPackWith(client, backend, () => convertFolderInEngine(files, options, setProgress)).finally(() => setSeconds((performance.now() - started) / 1000));
    },
    onSettled: () => {
      void client.invalidateQueries({ queryKey: cachedPacksKey });
      void client.invalidateQueries({ queryKey: storageKey });
    },
  });
  const busy = inspect.isPending || convert.isPending;

  const pick = (files: DroppedFile[]) => {
    if (files.length === 0 || busy) return;
    setPicked({ name: files[0]!.path.split('/')[0] || 'folder', files });
    convert.reset();
    inspect.mutate(files);
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const { entries, files } = entriesOfDrop(e.dataTransfer);
    if (entries.length) void filesFromEntries(entries).then(pick);
    else pick(files);
  };

  const info = inspect.data;
  return (
    <div className="convert" data-testid="convert.panel">
      <div
        className={`convert-drop${dragging ? ' over' : ''}`}
        data-testid="convert.drop"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p className="muted" id={`${id}-help`}>
          A Stable Diffusion 3 / 3.5 or FLUX.2 klein diffusers folder, as downloaded: drop it here, or
        </p>
        <label className={`pack-folder-button${busy ? ' disabled' : ''}`} title="Pick the model folder (the one with model_index.json).">
          Choose a model folder…
          <input
            type="file"
            className="visually-hidden"
            data-testid="convert.folder"
            multiple
            disabled={busy}
            aria-describedby={`${id}-help`}
            // webkitdirectory is not in React's types; every current browser supports it.
            ref={(el) => el?.setAttribute('webkitdirectory', '')}
            onChange={(e) => {
              const files = filesFromInput(e.target.files ?? []);
              e.target.value = '';
              pick(files);
            }}
          />
        </label>
      </div>
      {picked && (
        <p className="convert-folder-name">
          <span className="muted">Folder</span> <code>{picked.name}</code>
          {inspect.isPending && <span className="muted"> · reading…</span>}
        </p>
      )}
      {info && picked && (
        <>
          <p data-testid="convert.model">{folderSummary(info)}</p>
          {info.notes.length > 0 && (
            <ul className="convert-notes muted">
              {info.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
          <Options
            info={info}
            precision={precision}
            sizes={sizes}
            promptRows={promptRows}
            disabled={convert.isPending}
            onPrecision={setPrecision}
            onSizes={setSizes}
            onPromptRows={setPromptRows}
          />
          <button
            type="button"
            className="convert-start"
            data-testid="convert.start"
            disabled={convert.isPending || sizes.length === 0}
            title={sizes.length === 0 ? 'Choose at least one size.' : 'Convert here, in this browser; the pack is stored in it and loaded.'}
            onClick={() =>
              convert.mutate({
                files: picked.files,
                options: {
                  precision,
                  sizes,
                  ...(precision === 'int4' && info.int4BlockSize !== null ? { blockSize: info.int4BlockSize } : {}),
                  ...(info.promptRows && promptRows !== null ? { maxTextTokens: promptRows } : {}),
                },
              })
            }
          >
            Convert
          </button>
        </>
      )}
      <div aria-live="polite">{convert.isPending && <Progress progress={progress} />}</div>
      {inspect.isError && <ErrorBox error={inspect.error} testId="convert.error" />}
      {convert.isError && <ErrorBox error={convert.error} testId="convert.error" />}
      {convert.isSuccess && <Done pack={convert.data} seconds={seconds} />}
    </div>
  );
}
