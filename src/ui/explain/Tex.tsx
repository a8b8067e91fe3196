// A formula typeset by KaTeX (HTML for the eye, MathML for screen readers).
import katex from 'katex';
import 'katex/dist/katex.min.css';

export function Tex({ tex, display = false, label }: { tex: string; display?: boolean; label?: string }) {
  const html = katex.renderToString(tex, { displayMode: display, throwOnError: false, output: 'htmlAndMathml' });
  const Tag = display ? 'div' : 'span';
  return <Tag className={display ? 'tex display' : 'tex'} data-tex={tex} aria-label={label} dangerouslySetInnerHTML={{ __html: html }} />;
}
