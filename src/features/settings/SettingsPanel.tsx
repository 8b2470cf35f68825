/**
 * Generation settings in groups (basics, guidance, reference, one group per
 * subject, presets), each control with a one-sentence help, and a reset.
 */
import { useSettingsStore } from '../../state/settings-store';
import { useSubjectsStore } from '../../state/subjects-store';
import { useLoadedPack, usePackManifest } from '../models/pack-hooks';
import { HelpButton } from './fields';
import { BasicsGroup, GuidanceGroup, ReferenceGroup } from './GenerationGroups';
import { Presets } from './Presets';
import { SubjectGroup } from './SubjectGroup';
import './settings.css';

export function SettingsPanel() {
  const settings = useSettingsStore((s) => s.settings);
  const subjects = useSubjectsStore((s) => s.subjects);
  const { summary } = useLoadedPack();
  const manifest = usePackManifest();

  // Defaults are the studio's, with the loaded pack's own recommendations where it gives them.
  const reset = () => {
    const { actions } = useSettingsStore.getState();
    actions.reset();
    const size = manifest?.defaultResolution ?? summary?.defaultResolution;
    if (size) actions.patch({ width: size.width, height: size.height });
    if (manifest) actions.patch({ steps: manifest.guidance.steps, textGuidance: manifest.guidance.text, refGuidance: manifest.guidance.reference });
  };

  return (
    <section className="panel settings-panel" aria-labelledby="settings-title" data-testid="settings.panel">
      <div className="settings-head">
        <h2 id="settings-title">Settings</h2>
        <HelpButton testId="settings.reset" help="Put every generation setting back to its default (the pack's recommended size, steps and guidance); presets are kept." onClick={reset}>
          Reset
        </HelpButton>
      </div>
      <BasicsGroup settings={settings} pack={summary} manifest={manifest} />
      <GuidanceGroup settings={settings} />
      <ReferenceGroup settings={settings} />
      {subjects.map((s) => (
        <SubjectGroup key={s.id} subject={s} layers={manifest?.transformer.layers} width={settings.width} height={settings.height} />
      ))}
      <Presets />
    </section>
  );
}
