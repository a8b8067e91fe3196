export declare const STEPS: number;
export declare function safetensors(tensors: { name: string; shape: number[]; data: Float32Array }[]): Uint8Array;
export declare function tinyGpt2(
  vocab: number,
  opts?: { n_embd?: number; n_layer?: number; n_head?: number; n_positions?: number; seed?: number },
): { config: Record<string, unknown>; weights: Uint8Array };
export declare function writeFixtures(
  root: string,
  uploads: string,
  demoDir: string,
): { manifest: string; hubPath: string; hubRepo: string; png: string; broken: string; badModelFiles: string[] };
