// A text with each word tinted by its sentiment score in the demo's world (green positive, red
// negative); the score is in the word's title, and the tint is doubled by text weight for people who
// do not see the colors.
import { sentimentColor, sentimentSegments, trueReward } from '../../demo/index';
import { fmtNum } from '../history';
import { useT } from '../i18n';

export function SentimentText({ text }: { text: string }) {
  const { t } = useT();
  return (
    <span className="sentiment-text">
      {sentimentSegments(text).map((seg, i) =>
        seg.isWord && seg.sentiment !== 0 ? (
          <span key={i} className={seg.sentiment > 0 ? 'sent pos' : 'sent neg'} style={{ background: sentimentColor(seg.sentiment) }} title={t('demo.sentiment', { value: `${seg.sentiment > 0 ? '+' : ''}${seg.sentiment}` })}>
            {seg.text}
          </span>
        ) : (
          <span key={i}>{seg.text}</span>
        ),
      )}
    </span>
  );
}

/** "r* +0.312" with a sign class, for a completion's true reward. */
export function RewardBadge({ value, label = 'r*' }: { value: number; label?: string }) {
  return (
    <span className={`reward-badge ${value > 0 ? 'pos' : value < 0 ? 'neg' : ''}`}>
      {label} {value > 0 ? '+' : ''}
      {fmtNum(value)}
    </span>
  );
}

export { trueReward };
