// Where chosen and rejected differ: the shared start and end (cut at word boundaries) and the two
// middles, so the preview table can highlight what the preference is about.
export interface DiffParts {
  prefix: string;
  a: string;
  b: string;
  suffix: string;
}

export function diffParts(a: string, b: string): DiffParts {
  let p = 0;
  const n = Math.min(a.length, b.length);
  while (p < n && a[p] === b[p]) p++;
  // back up to a word start so a word is never split
  while (p > 0 && /\S/.test(a[p - 1]) && (/\S/.test(a[p] ?? ' ') || /\S/.test(b[p] ?? ' '))) p--;
  let s = 0;
  while (s < n - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  while (s > 0 && /\S/.test(a[a.length - s] ?? ' ') && (/\S/.test(a[a.length - s - 1] ?? ' ') || /\S/.test(b[b.length - s - 1] ?? ' '))) s--;
  return { prefix: a.slice(0, p), a: a.slice(p, a.length - s), b: b.slice(p, b.length - s), suffix: a.slice(a.length - s) };
}
