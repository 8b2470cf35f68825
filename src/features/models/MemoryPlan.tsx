/** The loaded pack's memory plan ("needs 3.1 GiB of GPU memory, your budget is 6 GiB") and the budget the user may change. */
import { useMutation } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { errorText } from '../../app/format';
import { getEngine, type PackSummary } from '../../engine-client/engine';
import { gibToBytes, parseBudget, storeBudgetGiB, storedBudgetGiB } from '../../state/memory-budget';

type Plan = NonNullable<PackSummary['memoryPlan']>;

export function MemoryPlan({ initial }: { initial: Plan | null }) {
  const id = useId();
  const [plan, setPlan] = useState<Plan | null>(initial);
  const [text, setText] = useState(() => String(storedBudgetGiB() ?? ''));
  const [problem, setProblem] = useState<string | null>(null);
  const apply = useMutation({
    mutationFn: (gib: number | null) => getEngine().setMemoryBudget(gib === null ? null : gibToBytes(gib)),
    onSuccess: (r, gib) => {
      storeBudgetGiB(gib);
      setPlan(r.plan);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseBudget(text);
    if (!parsed.ok) return setProblem(parsed.message);
    setProblem(null);
    apply.mutate(parsed.gib);
  };
  return (
    <div className="memory-plan" data-testid="pack.memory">
      {plan && (
        <p className={plan.fits ? '' : 'warn'} data-testid="pack.memory.plan" title={`Planned at ${plan.width}×${plan.height}, ${plan.subjects} subject, ${plan.refMode} reference mode: weights resident, activations of the largest graph run, attention scores and caches.`}>
          Memory: {plan.message} ({plan.width}×{plan.height}, {plan.subjects} subject)
        </p>
      )}
      <form className="memory-budget" onSubmit={submit}>
        <label htmlFor={`${id}-budget`}>Budget (GiB)</label>
        <input
          id={`${id}-budget`}
          data-testid="pack.memory.budget"
          inputMode="decimal"
          placeholder="default"
          value={text}
          title="The GPU memory a pack may use. Empty: the default (4 GiB on WASM; this device's memory, at most 8 GiB, on WebGPU). Packs whose plan does not fit are refused before any download."
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" data-testid="pack.memory.apply" disabled={apply.isPending}>
          Apply
        </button>
      </form>
      {(problem || apply.isError) && (
        <p className="pack-error" role="alert" data-testid="pack.memory.error">
          {problem ?? errorText(apply.error)}
        </p>
      )}
    </div>
  );
}
