// The tags every inference request carries (impl, scenario, level, phase); thresholds select on them.

export type Phase = 'warmup' | 'measure';

export interface RequestTags {
  impl: string;
  scenario: string;
  level: string;
  phase: Phase;
  [key: string]: string;
}
