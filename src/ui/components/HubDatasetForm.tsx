// A preference dataset from the Hugging Face Hub: repo id, config and split; the Hub's Parquet files
// are streamed with progress and validated like an uploaded file (the report below is the same one).
import { useState } from 'react';
import { useT } from '../i18n';
import { loadDataset, useStore } from '../store';

export function HubDatasetForm({ disabled }: { disabled: boolean }) {
  const { t } = useT();
  const hubUrl = useStore((s) => s.hubUrl);
  const [repo, setRepo] = useState('trl-lib/ultrafeedback_binarized');
  const [config, setConfig] = useState('default');
  const [split, setSplit] = useState('train');
  return (
    <details className="hub-dataset">
      <summary>{t('hubData.summary')}</summary>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void loadDataset({ kind: 'hub', hubUrl, repo: repo.trim(), config: config.trim() || 'default', split: split.trim() || 'train' });
        }}
      >
        <label>
          {t('hubData.repo')}
          <input name="dataset-repo" value={repo} onChange={(e) => setRepo(e.target.value)} placeholder="owner/name" spellCheck={false} />
        </label>
        <label>
          {t('hubData.config')}
          <input name="dataset-config" value={config} onChange={(e) => setConfig(e.target.value)} spellCheck={false} />
        </label>
        <label>
          {t('hubData.split')}
          <input name="dataset-split" value={split} onChange={(e) => setSplit(e.target.value)} spellCheck={false} />
        </label>
        <button type="submit" disabled={disabled}>
          {t('hubData.load')}
        </button>
        <span className="hint">{t('hubData.hint')}</span>
      </form>
    </details>
  );
}
