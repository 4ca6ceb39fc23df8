/**
 * A table entry by a key that came off the wire: own properties only, so that a value
 * such as "constructor" or "__proto__" never picks up something from Object.prototype.
 */
export function lookup<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}
