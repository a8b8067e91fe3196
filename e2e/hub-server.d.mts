export interface VirtualFile {
  size: number;
  read(start: number, end: number): Buffer;
}
export type RepoFile = Buffer | VirtualFile;
export interface HubRepo {
  files: Record<string, RepoFile>;
  token?: string;
  type?: 'model' | 'dataset';
  parquet?: Record<string, Record<string, string[]>>;
  /** No /api/datasets listing (the loader then tries refs/convert/parquet/{config}/{split}/0000.parquet). */
  noListing?: boolean;
}
export interface HubServer {
  url: string;
  log: { method: string; path: string; range: string | null; auth: string | null }[];
  cutOnce(path: string, afterBytes: number): void;
  setRangeSupport(on: boolean): void;
  setThrottle(bytesPerSec: number): void;
  close(): Promise<void>;
}
export declare const SMOLLM2_135M_CONFIG: Record<string, unknown>;
export declare const QWEN3_06B_CONFIG: Record<string, unknown>;
export declare const SMOLLM2_CHAT_TEMPLATE: string;
export declare function llamaParams(cfg: Record<string, unknown>): { name: string; shape: number[]; kind: 'w' | 'norm' | 'bias' }[];
export declare function virtualCheckpoint(
  config: Record<string, unknown>,
  opts?: { seed?: number; shardBytes?: number; std?: number },
): { files: Record<string, RepoFile>; shards: number; totalBytes: number; params: { name: string; shape: number[] }[] };
export declare function chatmlTokenizer(gpt2TokenizerPath: string, vocabSize: number, opts?: { chatTemplate?: string }): Record<string, Buffer>;
export declare function startHubServer(repos: Record<string, HubRepo>, opts?: { port?: number }): Promise<HubServer>;
