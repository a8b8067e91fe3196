// Chat templates as transformers renders them. @huggingface/jinja (0.5.11) runs Python's str methods
// strip/lstrip/rstrip without their `chars` argument (JS trim), so Qwen3's template, whose last
// assistant turn is `content.lstrip('\n')` and reasoning `.strip('\n')`, renders " Bonjour" as "Bonjour"
// and the ids differ from TRL's. The parsed template is rewritten so that every `x.strip(chars)` with an
// argument calls a Python-exact helper instead; calls without one keep jinja's whitespace strip.
import { Template } from '@huggingface/jinja';

type Mode = 'strip' | 'lstrip' | 'rstrip';
const MODES: readonly Mode[] = ['strip', 'lstrip', 'rstrip'];
const helperName = (m: Mode) => `__py_${m}`;

/** Python's str.strip / lstrip / rstrip with an optional set of characters (None = whitespace). */
export function pyStrip(mode: Mode, s: string, chars?: string | null): string {
  if (chars === undefined || chars === null) return mode === 'strip' ? s.trim() : mode === 'lstrip' ? s.trimStart() : s.trimEnd();
  const set = new Set(Array.from(chars));
  const cps = Array.from(s);
  let a = 0;
  let b = cps.length;
  if (mode !== 'rstrip') while (a < b && set.has(cps[a])) a++;
  if (mode !== 'lstrip') while (b > a && set.has(cps[b - 1])) b--;
  return cps.slice(a, b).join('');
}

interface Node {
  type?: string;
  [k: string]: unknown;
}

/** In place: `obj.strip(arg)` -> `__py_strip(obj, arg)` (same for lstrip/rstrip), everywhere in the tree. */
function rewrite(node: unknown, seen = new Set<unknown>()): void {
  if (!node || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const x of node) rewrite(x, seen);
    return;
  }
  const n = node as Node;
  for (const v of Object.values(n)) rewrite(v, seen);
  if (n.type !== 'CallExpression') return;
  const callee = n.callee as Node | undefined;
  const args = n.args as Node[] | undefined;
  const prop = callee?.property as Node | undefined;
  if (callee?.type !== 'MemberExpression' || callee.computed || prop?.type !== 'Identifier' || !args || args.length !== 1) return;
  const mode = prop.value as Mode;
  if (!MODES.includes(mode)) return;
  n.callee = { type: 'Identifier', value: helperName(mode) };
  n.args = [callee.object, args[0]];
}

export interface CompiledTemplate {
  render(items: Record<string, unknown>): string;
}

/** Parses the template (jinja's trim_blocks/lstrip_blocks, as transformers) with the Python-exact strips. */
export function compileChatTemplate(source: string): CompiledTemplate {
  const t = new Template(source);
  rewrite((t as unknown as { parsed: unknown }).parsed);
  const helpers = Object.fromEntries(MODES.map((m) => [helperName(m), (s: unknown, chars?: unknown) => pyStrip(m, String(s), chars === undefined || chars === null ? null : String(chars))]));
  return { render: (items) => t.render({ ...helpers, ...items }) };
}
