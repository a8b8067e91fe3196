// A Hub model from the worker's side: the access token of this session (memory only: never in a
// ModelSpec, so never in a saved run or an export), the pre-download plan, and the FileSource that
// downloads the weights with progress once the plan says the model can be trained here.
import { defaultTrainerArgs, type TrainerArgs } from '../dpo/trainer';
import type { FileSource } from '../model/weights';
import { HubError, type HubRef } from './hub';
import { planHubModel, type HubModelPlan } from './hub-plan';
import { fmtBytes, type AdapterLimits } from './memory';
import type { ModelSpec, WorkerEvent } from './protocol';
import { hubSource } from './sources';

export type HubModelSpec = Extract<ModelSpec, { kind: 'hub' }>;

let sessionToken: string | undefined;

/** The token sent as `Authorization: Bearer` to the Hub for the rest of this page session (null clears it). */
export function setHubToken(token: string | null): void {
  sessionToken = token?.trim() || undefined;
}

export function hubRef(spec: { hubUrl: string; repo: string; revision?: string }, type: HubRef['type'] = 'model'): HubRef {
  return { hubUrl: spec.hubUrl, repo: spec.repo, revision: spec.revision?.trim() || 'main', token: sessionToken, type };
}

/** What the model will cost with `args` on this adapter (config.json + index/headers only). */
export function planHub(spec: HubModelSpec, args: Partial<TrainerArgs> | undefined, limits: AdapterLimits): Promise<HubModelPlan> {
  return planHubModel(hubRef(spec), { ...defaultTrainerArgs, ...args }, limits);
}

/**
 * Plans, refuses what cannot be trained here (before any weight is fetched), then returns the source
 * that downloads the files, reporting per-file progress as 'download' events.
 */
export async function openHubModel(spec: HubModelSpec, limits: AdapterLimits, emit: (e: WorkerEvent) => void): Promise<FileSource> {
  const plan = await planHub(spec, spec.args, limits);
  if (plan.refusal) throw new HubError(plan.refusal, plan.refusalCode?.code, plan.refusalCode?.params);
  const size = plan.downloadBytes !== null ? ` (${fmtBytes(plan.downloadBytes)})` : '';
  emit({ type: 'status', message: `Downloading ${plan.repo}: ${plan.files.length} weight file(s)${size}, ${plan.dtype}.` });
  return hubSource(hubRef(spec), {
    plan,
    onProgress: (p) =>
      emit({ type: 'download', what: 'model', file: p.file, loaded: p.loaded, total: p.total, fileIndex: p.fileIndex, fileCount: p.fileCount, etaSec: p.etaSec, bytesPerSec: p.bytesPerSec, resumedFrom: p.resumedFrom }),
  });
}
