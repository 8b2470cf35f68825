/**
 * Before a long conversion in the browser: would the pack run here at all? A folder of a known
 * real model (SD3 Medium, FLUX.2 klein 4B or 9B) is planned at its real widths with the project's
 * presets (workers/plan/presets.ts, int4: the smallest pack) at the smallest size asked for, with one
 * subject. When even that does not fit this browser's memory budget, the conversion is refused up
 * front with what it needs: the alternative is converting for many minutes and then having the
 * engine refuse to load the pack (and the conversion rolled back). Toy folders (custom widths) are
 * left to the check at load time.
 */
import { PackLoadError } from '../../pack/download';
import { planMemory } from '../../plan/planner';
import { PRESETS } from '../../plan/presets';
import type { ConversionFacts } from '../conversion-facts';

export function checkPlanBeforeConverting(
  label: string,
  facts: Pick<ConversionFacts, 'planPreset'>,
  opts: { sizes: readonly number[]; maxTextTokens?: number },
  budgetBytes: number | undefined,
): void {
  const preset = facts.planPreset ? PRESETS[facts.planPreset] : undefined;
  if (!preset || budgetBytes === undefined || opts.sizes.length === 0) return;
  const rows = opts.maxTextTokens ?? preset.textTokens;
  const arch = { ...preset, textTokens: rows, textEncoders: preset.textEncoders.map((t) => ({ ...t, tokens: Math.min(t.tokens, rows) })) };
  const size = Math.min(...opts.sizes);
  const plan = planMemory(arch, { width: size, height: size, subjects: 1, referencesPerSubject: 1, refMode: arch.defaultRefMode, budgetBytes });
  if (plan.fits) return;
  throw new PackLoadError(
    'plan-refused',
    `${label} does not fit this browser's GPU memory even at int4, ${size} px and one subject: it ${plan.message}. Nothing was converted. ` +
      'If the GPU has more memory than the budget says, raise the budget in the pack panel; otherwise pick a smaller model (docs/flux2.md says which klein fits which GPU).',
  );
}
