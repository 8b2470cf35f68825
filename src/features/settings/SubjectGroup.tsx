/**
 * One subject's knobs (METHOD.md sections 2 and 5): strength gamma, the
 * frequency split of its reference, and the layer and step windows in which
 * it is attended to. They live on the subject (subjects store), not in the
 * generation settings, so each subject keeps its own.
 */
import { DEFAULT_FREQUENCY, type FrequencySettings } from '../../../workers/generation-types';
import { useSubjectsStore, type Subject } from '../../state/subjects-store';
import { CheckField, Group, HelpButton, NumberField, SelectField } from './fields';
import { cutoffLimit, layerLimit, moveWindow, SUBJECT_LIMITS } from './limits';

interface Props {
  subject: Subject;
  /** Transformer layers of the loaded pack (undefined until one is loaded). */
  layers: number | undefined;
  width: number;
  height: number;
}

const SHAPES = [
  { value: 'square', label: 'Square' },
  { value: 'disk', label: 'Disk' },
] as const;

export function SubjectGroup({ subject: s, layers, width, height }: Props) {
  const { actions } = useSubjectsStore.getState();
  const f = s.frequency;
  const setFrequency = (p: Partial<FrequencySettings>) => actions.update(s.id, { frequency: { ...f, ...p } });
  const tid = (name: string) => `settings.subject.${s.name}.${name}`;
  return (
    <Group
      testId={`settings.subject.${s.name}`}
      title={
        <>
          <span className="subject-title">@{s.name}</span>
          {s.classWord && <span className="muted"> {s.classWord}</span>}
        </>
      }
    >
      <NumberField
        label="Strength"
        help="How much attention goes to this subject's photos: 1 as the model was trained, 0 leaves the subject out, higher pushes it harder."
        testId={tid('strength')}
        value={s.strength}
        limit={SUBJECT_LIMITS.strength}
        onChange={(v) => actions.setStrength(s.id, v)}
        slider
      />
      <CheckField
        label="Frequency split"
        help="Split the photo into coarse shapes (low band) and fine detail (high band) and weight each on its own."
        testId={tid('frequency')}
        checked={f.enabled}
        onChange={(enabled) => setFrequency({ enabled })}
      />
      {f.enabled && (
        <div className="settings-subgroup">
          <NumberField
            label="Cutoff"
            help="Size of the low band in frequency bins: smaller keeps only the broad shapes in it."
            testId={tid('cutoff')}
            value={f.cutoff}
            limit={cutoffLimit(width, height)}
            onChange={(cutoff) => setFrequency({ cutoff })}
          />
          <SelectField label="Band shape" help="Whether the low band is a square or a disk of frequencies around the centre." testId={tid('shape')} value={f.shape} options={SHAPES} onChange={(shape) => setFrequency({ shape })} />
          <NumberField label="Original weight" help="Strength of the unsplit photo." testId={tid('gamma-orig')} value={f.gammaOrig} limit={SUBJECT_LIMITS.bandWeight} onChange={(gammaOrig) => setFrequency({ gammaOrig })} slider />
          <NumberField label="Low-band weight" help="Strength of the photo's coarse shapes and colours." testId={tid('gamma-low')} value={f.gammaLow} limit={SUBJECT_LIMITS.bandWeight} onChange={(gammaLow) => setFrequency({ gammaLow })} slider />
          <NumberField label="High-band weight" help="Strength of the photo's fine detail and texture." testId={tid('gamma-high')} value={f.gammaHigh} limit={SUBJECT_LIMITS.bandWeight} onChange={(gammaHigh) => setFrequency({ gammaHigh })} slider />
        </div>
      )}
      <NumberField
        label="From layer"
        help="The subject is ignored in the transformer layers below this one; 0 uses every layer."
        testId={tid('layer-start')}
        value={s.layerStart}
        limit={layerLimit(layers)}
        onChange={(layerStart) => actions.update(s.id, { layerStart })}
      />
      <NumberField
        label="Active from"
        help="Fraction of the sampling at which the subject starts to count (0 = the first step)."
        testId={tid('window-start')}
        value={s.stepWindow[0]}
        limit={SUBJECT_LIMITS.window}
        onChange={(v) => actions.update(s.id, { stepWindow: moveWindow(s.stepWindow, 0, v) })}
        slider
      />
      <NumberField
        label="Active until"
        help="Fraction of the sampling after which the subject stops counting (1 = the last step)."
        testId={tid('window-end')}
        value={s.stepWindow[1]}
        limit={SUBJECT_LIMITS.window}
        onChange={(v) => actions.update(s.id, { stepWindow: moveWindow(s.stepWindow, 1, v) })}
        slider
      />
      <HelpButton
        className="link-button"
        testId={tid('reset')}
        help={`Put @${s.name}'s strength, frequency split and windows back to their defaults.`}
        onClick={() => {
          actions.setStrength(s.id, 1);
          actions.update(s.id, { frequency: { ...DEFAULT_FREQUENCY }, layerStart: 0, stepWindow: [0, 1] });
        }}
      >
        Reset @{s.name}
      </HelpButton>
    </Group>
  );
}
