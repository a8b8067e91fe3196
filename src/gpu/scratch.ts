// A step's scratch tensors: made through one object and released together when the step is done.
import type { Gpu, Tensor } from './context';

export class Scratch {
  private readonly held: Tensor[] = [];

  constructor(private readonly gpu: Gpu) {}

  tensor(shape: readonly number[]): Tensor {
    const x = this.gpu.tensor(shape);
    this.held.push(x);
    return x;
  }

  upload(data: Float32Array | Uint32Array | Int32Array, shape?: readonly number[]): Tensor {
    const x = this.gpu.upload(data, shape);
    this.held.push(x);
    return x;
  }

  release(): void {
    this.gpu.release(...this.held.splice(0));
  }
}
