/**
 * Generation settings in groups (basics, guidance, reference, one group per
 * subject, presets), each control with a one-sentence help, and a reset.
 */
import { useSettingsStore } from '../../state/settings-store';
import { useSubjectsStore } from '../../state/subjects-store';
import { usePackCapabilities } from '../models/pack-hooks';
import { HelpButton } from './fields';
import { BasicsGroup, GuidanceGroup, ReferenceGroup } from './GenerationGroups';
import { useSettingsFollowPack } from './follow-pack';
import { packRecommendations } from './pack-defaults';
import { Presets } from './Presets';
import { SubjectGroup } from './SubjectGroup';
import './settings.css';

export function SettingsPanel() {
  const settings = useSettingsStore((s) => s.settings);
  const subjects = useSubjectsStore((s) => s.subjects);
  const caps = usePackCapabilities();
  const follow = useSettingsFollowPack();

  // Defaults are the studio's, with the loaded pack's own recommendations where it gives them.
  const reset = () => {
    const { actions } = useSettingsStore.getState();
    actions.reset();
    if (caps) actions.patch(packRecommendations(caps));
    follow.dismiss();
  };

  return (
    <section className="panel settings-panel" aria-labelledby="settings-title" data-testid="settings.panel">
      <div className="settings-head">
        <h2 id="settings-title">Settings</h2>
        <HelpButton testId="settings.reset" help="Put every generation setting back to its default (the pack's recommended size, steps and guidance); presets are kept." onClick={reset}>
          Reset
        </HelpButton>
      </div>
      {follow.note && (
        <p className="settings-note" role="status" data-testid="settings.follow-note">
          <span>{follow.note}</span>
          <button type="button" className="link-button" aria-label="Dismiss the note" onClick={follow.dismiss}>
            OK
          </button>
        </p>
      )}
      <BasicsGroup settings={settings} caps={caps} />
      <GuidanceGroup settings={settings} />
      <ReferenceGroup settings={settings} caps={caps} />
      {subjects.map((s) => (
        <SubjectGroup key={s.id} subject={s} layers={caps?.layers} width={settings.width} height={settings.height} />
      ))}
      <Presets />
    </section>
  );
}
