/**
 * A file's text, read again whenever it may have changed: on an fs.watch event for its name in its folder
 * (the folder, so that a file replaced by a rename, as editors and `mv` do, is still seen), 50 ms after the
 * last event of a burst, and once a second in case an event was missed (network filesystems, a folder
 * replaced). onText is called only when the text differs from the last one read.
 */
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface FileWatchOptions {
  file: string;
  onText: (text: string) => void;
  onError: (err: Error) => void;
  settleMs?: number;
  pollMs?: number;
}

export class FileWatch {
  private last: string | null = null;
  private watcher: FSWatcher | null = null;
  private settle: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private reading = false;
  private again = false;
  private closed = false;

  constructor(private readonly o: FileWatchOptions) {}

  start(): void {
    const name = path.basename(this.o.file);
    try {
      this.watcher = watch(path.dirname(this.o.file), (_event, changed) => {
        if (changed === null || changed === name) this.soon();
      });
      this.watcher.on('error', (err) => this.o.onError(err));
    } catch (err) {
      // Without events the poll below still sees every change, a second later at most.
      this.o.onError(err as Error);
    }
    this.poll = setInterval(() => void this.read(), this.o.pollMs ?? 1000);
    this.poll.unref();
    void this.read();
  }

  private soon(): void {
    if (this.settle) clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.read(), this.o.settleMs ?? 50);
  }

  private async read(): Promise<void> {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      const text = await readFile(this.o.file, 'utf8');
      if (!this.closed && text !== this.last) {
        this.last = text;
        this.o.onText(text);
      }
    } catch (err) {
      this.o.onError(err as Error);
    } finally {
      this.reading = false;
    }
    if (this.again) {
      this.again = false;
      await this.read();
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.settle) clearTimeout(this.settle);
    if (this.poll) clearInterval(this.poll);
  }
}
