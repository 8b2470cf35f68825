/**
 * The memory plan of a pack as the engine checks it before fetching: the
 * pack's default size, one subject with one photo, the mode the pack calls
 * exact (cached otherwise), under the user's budget.
 */
import type { PackManifest } from '../pack/manifest';
import { archFromManifest } from './fromManifest';
import { planMemory, type MemoryPlan } from './planner';

export interface PackPlanSummary {
  width: number;
  height: number;
  subjects: number;
  refMode: 'cached' | 'full';
  peakBytes: number;
  budgetBytes: number;
  fits: boolean;
  /** "needs 3.1 GiB of GPU memory, your budget is 6 GiB". */
  message: string;
}

export function planPack(m: PackManifest, budgetBytes: number, maxBufferBytes?: number): { plan: MemoryPlan; summary: PackPlanSummary } {
  const refMode = m.referenceModes?.full === 'exact' && m.referenceModes.cached !== 'exact' ? 'full' : 'cached';
  const { width, height } = m.defaultResolution;
  const plan = planMemory(archFromManifest(m), { width, height, subjects: 1, referencesPerSubject: 1, refMode, budgetBytes, maxBufferBytes });
  return { plan, summary: { width, height, subjects: 1, refMode, peakBytes: plan.peakBytes, budgetBytes, fits: plan.fits, message: plan.message } };
}

const GIB = 2 ** 30;

/**
 * The budget when the user sets none. WASM: the 32-bit heap stops at 4 GiB.
 * WebGPU: browsers do not say how much GPU memory there is; the device's RAM
 * (navigator.deviceMemory, which Chrome caps at 8) is the honest upper guess.
 */
export function defaultBudgetBytes(backend: 'webgpu' | 'wasm', deviceMemoryGiB: number | undefined): number {
  if (backend === 'wasm') return 4 * GIB;
  return (deviceMemoryGiB && deviceMemoryGiB > 0 ? Math.min(deviceMemoryGiB, 8) : 8) * GIB;
}
