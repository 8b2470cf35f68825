/** Saved presets: the generation settings under a name (per-subject knobs stay with their subjects). */
import { useId, useState, type FormEvent } from 'react';
import { useSettingsStore } from '../../state/settings-store';
import { Group, Help, HelpButton } from './fields';

const NAME_HELP = 'A name for the current settings; saving under an existing name replaces that preset.';
const PICK_HELP = 'The saved preset that Load and Delete act on.';

export function Presets() {
  const id = useId();
  const presets = useSettingsStore((s) => s.presets);
  const { actions } = useSettingsStore.getState();
  const [name, setName] = useState('');
  const [picked, setPicked] = useState('');
  const [message, setMessage] = useState('');
  // The picked preset, or the first one while nothing (or a deleted one) is picked.
  const selected = presets.some((p) => p.name === picked) ? picked : (presets[0]?.name ?? '');

  const save = (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    if (!n) return;
    const replaced = presets.some((p) => p.name === n);
    actions.savePreset(n);
    setPicked(n);
    setName('');
    setMessage(`${replaced ? 'Replaced' : 'Saved'} preset “${n}”.`);
  };

  return (
    <Group title="Presets" testId="settings.presets">
      <form className="preset-row" onSubmit={save}>
        <label htmlFor={`${id}-name`} className="visually-hidden">
          Preset name
        </label>
        <input
          id={`${id}-name`}
          data-testid="settings.preset.name"
          placeholder="Preset name"
          value={name}
          maxLength={60}
          title={NAME_HELP}
          aria-describedby={`${id}-name-help`}
          onChange={(e) => setName(e.target.value)}
        />
        <HelpButton type="submit" testId="settings.preset.save" disabled={!name.trim()} help="Save the current generation settings under this name.">
          Save
        </HelpButton>
        <Help id={`${id}-name-help`} help={NAME_HELP} />
      </form>
      {presets.length > 0 && (
        <div className="preset-row">
          <label htmlFor={`${id}-pick`} className="visually-hidden">
            Saved presets
          </label>
          <select id={`${id}-pick`} data-testid="settings.preset.select" value={selected} title={PICK_HELP} aria-describedby={`${id}-pick-help`} onChange={(e) => setPicked(e.target.value)}>
            {presets.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
          <Help id={`${id}-pick-help`} help={PICK_HELP} />
          <HelpButton
            testId="settings.preset.load"
            help="Replace the current generation settings with the chosen preset."
            onClick={() => setMessage(actions.loadPreset(selected) ? `Loaded preset “${selected}”.` : `There is no preset “${selected}”.`)}
          >
            Load
          </HelpButton>
          <HelpButton
            testId="settings.preset.delete"
            help="Delete the chosen preset (the current settings stay as they are)."
            onClick={() => {
              actions.deletePreset(selected);
              setMessage(`Deleted preset “${selected}”.`);
            }}
          >
            Delete
          </HelpButton>
        </div>
      )}
      <p className="muted preset-message" aria-live="polite" data-testid="settings.preset.message">
        {message || (presets.length === 0 ? 'No presets saved yet.' : '')}
      </p>
    </Group>
  );
}
