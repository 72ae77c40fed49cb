import type { Worker } from 'node:worker_threads';

interface Spare {
  worker: Worker;
  failure?: Error;
}

/**
 * Decoding threads started before their work is known, so that their start-up (a thread, a
 * module and the zstd addon: tens of milliseconds each) overlaps whatever comes first. A thread
 * learns its work from its first message, so any spare serves whoever takes it. A spare does not
 * keep the process alive, and costs only its start-up CPU if nobody takes it.
 */
export class SpareWorkers {
  private spares: Spare[] = [];

  /** `start` makes one thread; `name` says what one is, in the error of a spare that died. */
  constructor(
    private readonly start: () => Worker,
    private readonly name: string,
  ) {}

  /** Starts spares until there are `count`; fewer where the process can have no thread now. */
  fill(count: number): void {
    while (this.spares.length < count) {
      let worker: Worker;
      try {
        worker = this.start();
      } catch {
        // Whoever needs a thread starts one then, and reports it if it still cannot; a command
        // that needs none must not fail here.
        return;
      }
      const spare: Spare = { worker };
      worker.unref();
      worker.once('error', (error) => (spare.failure ??= error));
      worker.once('exit', (code) => (spare.failure ??= new Error(`${this.name} exited with code ${code}`)));
      this.spares.push(spare);
    }
  }

  /** A healthy spare, from now on keeping the process alive as any thread does; else a new thread. */
  take(): Worker {
    for (let spare = this.spares.shift(); spare; spare = this.spares.shift()) {
      if (spare.failure) {
        void spare.worker.terminate();
        continue;
      }
      spare.worker.removeAllListeners();
      spare.worker.ref();
      return spare.worker;
    }
    return this.start();
  }

  /** Ends the spares nobody took. */
  drop(): void {
    for (const { worker } of this.spares) void worker.terminate();
    this.spares = [];
  }

  get count(): number {
    return this.spares.length;
  }
}
