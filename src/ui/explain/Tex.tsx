// A formula typeset by KaTeX (HTML for the eye, MathML for screen readers).
import katex from 'katex';
import 'katex/dist/katex.min.css';

/** `hidden`: the formula is only for the eye, a text beside it says the same to screen readers. */
export function Tex({ tex, display = false, label, hidden = false }: { tex: string; display?: boolean; label?: string; hidden?: boolean }) {
  const html = katex.renderToString(tex, { displayMode: display, throwOnError: false, output: 'htmlAndMathml' });
  const Tag = display ? 'div' : 'span';
  return <Tag className={display ? 'tex display' : 'tex'} data-tex={tex} aria-label={label} aria-hidden={hidden || undefined} dangerouslySetInnerHTML={{ __html: html }} />;
}
