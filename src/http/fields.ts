// Header fields as received: parallel arrays, no per-field objects. Lookups compare lower-case
// names (a request carries a handful of fields, so a linear scan beats building a map).
import type { Headers } from './types.js';

export class FieldList implements Headers {
  /** Names as received. */
  readonly names: string[] = [];
  /** Names in lower case, for lookups. */
  readonly lowerNames: string[] = [];
  readonly values: string[] = [];

  add(name: string, lower: string, value: string): void {
    this.names.push(name);
    this.lowerNames.push(lower);
    this.values.push(value);
  }

  get size(): number {
    return this.names.length;
  }

  get(name: string): string | undefined {
    const lower = this.lowerNames;
    for (let i = 0; i < lower.length; i++) if (lower[i] === name) return this.values[i];
    return undefined;
  }

  getAll(name: string): string[] {
    const out: string[] = [];
    const lower = this.lowerNames;
    for (let i = 0; i < lower.length; i++) if (lower[i] === name) out.push(this.values[i]);
    return out;
  }

  has(name: string): boolean {
    return this.lowerNames.indexOf(name) !== -1;
  }

  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i], this.values[i]];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
