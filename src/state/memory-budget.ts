/**
 * The user's memory budget (GiB), kept in localStorage so that it applies
 * before the first pack of a session loads; null: the engine's default.
 */
const KEY = 'subject-studio.memory-budget-gib';

export function storedBudgetGiB(): number | null {
  try {
    const v = Number(localStorage.getItem(KEY));
    return Number.isFinite(v) && v > 0 ? v : null;
  } catch {
    return null;
  }
}

export function storeBudgetGiB(gib: number | null): void {
  try {
    if (gib === null) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, String(gib));
  } catch {
    /* private mode without storage: the budget lasts for this page only */
  }
}

export const gibToBytes = (gib: number) => Math.round(gib * 2 ** 30);

/** Parses what the user typed: a positive number of GiB, or empty for the default. */
export function parseBudget(text: string): { ok: true; gib: number | null } | { ok: false; message: string } {
  const t = text.trim();
  if (t === '') return { ok: true, gib: null };
  const v = Number(t);
  if (!Number.isFinite(v) || v <= 0) return { ok: false, message: `"${t}" is not a memory budget: type a number of GiB, such as 6` };
  if (v > 1024) return { ok: false, message: `${v} GiB is more memory than any GPU has: type a number of GiB, such as 6` };
  return { ok: true, gib: v };
}
