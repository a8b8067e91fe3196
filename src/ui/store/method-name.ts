// A run's method in one word, for labels (frontier curves, saved runs): DPO runs by their loss_type as before
// ("sigmoid", "ipo"), the trainers beside DPO by name ("SimPO" for CPO's loss_type simpo, "CPO hinge", "ORPO", "KTO").
import type { TrainerArgs } from '../../dpo/trainer';
import { trainerOf } from '../../dpo/preference-trainer';

export function methodName(a: Pick<TrainerArgs, 'loss_type'> & Partial<Pick<TrainerArgs, 'trainer'>>): string {
  const lt = String(a.loss_type);
  switch (trainerOf(a)) {
    case 'cpo':
      return lt === 'simpo' ? 'SimPO' : `CPO ${lt}`;
    case 'orpo':
      return 'ORPO';
    case 'kto':
      return 'KTO';
    default:
      return lt;
  }
}
