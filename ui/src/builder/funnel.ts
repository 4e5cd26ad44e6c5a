// Funnel step edits that keep the optional step valid (one middle step,
// docs/funnels.md). Pure; tested in funnel.test.ts.
import type { FunnelDef } from '../api/types';

/** setOptionalStep makes step i (0-based, a middle step) the only optional one; -1 makes none optional. */
export function setOptionalStep(def: FunnelDef, i: number): FunnelDef {
  return { ...def, steps: def.steps.map((s, j) => {
    const { optional: _, ...rest } = s;
    return j === i && i > 0 && i < def.steps.length - 1 ? { ...rest, optional: true } : rest;
  }) };
}

/** removeStep removes step i; an optional step that becomes the first or last is no longer optional. */
export function removeStep(def: FunnelDef, i: number): FunnelDef {
  const steps = def.steps.filter((_, j) => j !== i);
  const o = steps.findIndex((s) => s.optional);
  return setOptionalStep({ ...def, steps }, o);
}
