import { describe, expect, it } from 'vitest';
import type { FunnelDef } from '../api/types';
import { removeStep, setOptionalStep } from './funnel';

const def: FunnelDef = {
  type: 'funnel', version: 1, range: { last: 7 },
  steps: [{ event_type: 'A' }, { event_type: 'B' }, { event_type: 'C' }, { event_type: 'D' }],
};
const optional = (d: FunnelDef) => d.steps.map((s) => !!s.optional);

describe('setOptionalStep', () => {
  it('marks one middle step and clears the others', () => {
    const d = setOptionalStep(setOptionalStep(def, 1), 2);
    expect(optional(d)).toEqual([false, false, true, false]);
    expect(optional(setOptionalStep(d, -1))).toEqual([false, false, false, false]);
    expect('optional' in setOptionalStep(d, -1).steps[2]).toBe(false);
  });
  it('never marks the first or last step', () => {
    expect(optional(setOptionalStep(def, 0))).toEqual([false, false, false, false]);
    expect(optional(setOptionalStep(def, 3))).toEqual([false, false, false, false]);
  });
});

describe('removeStep', () => {
  it('keeps a middle optional step', () => {
    expect(optional(removeStep(setOptionalStep(def, 2), 0))).toEqual([false, true, false]);
  });
  it('drops the flag when the optional step becomes the last', () => {
    expect(optional(removeStep(setOptionalStep(def, 2), 3))).toEqual([false, false, false]);
  });
});
