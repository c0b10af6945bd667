/** Counts as people read them: "1 object", "2 objects", "1 derived copy", "3 derived copies". */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
