import * as fs from 'fs';
import { DasyConfig } from '../../libs/config';
import { Logger } from '../../libs/log';
import { runApi } from '../api/command';
import { dashboardExtension } from '../dashboard';
import { generateProducts } from '../data/generate';
import { ingest } from '../ingest';

/**
 * `make demo`: from a fresh clone to a live dashboard. Generates the products file if it is
 * missing, ingests it through the whole pipeline, serves the api and dashboard, seeds a few score
 * pushes and ad events (only into an empty score table) so every panel shows something, and
 * prints the dashboard's URL. Runs until Ctrl-C.
 */
export async function demo(config: DasyConfig, logger: Logger, options: { file: string; rows: number; consumers: number; host: string }): Promise<number> {
  if (!fs.existsSync(options.file)) {
    const g = await generateProducts({ rows: options.rows, seed: 1, out: options.file });
    console.log(`demo: wrote ${g.file} (${g.rows} rows)`);
  }
  const summary = await ingest({ config, logger, file: options.file, consumers: options.consumers });
  console.log(JSON.stringify(summary));
  return runApi(config, logger, {
    port: config.port,
    host: options.host,
    consumers: true,
    pushTimeoutMs: 5000,
    extend: dashboardExtension,
    onListening: async (url) => {
      await seed(url, config);
      console.log(`dashboard: ${url}/`);
    },
  });
}

async function seed(url: string, config: DasyConfig) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (config.apiToken) headers.authorization = `Bearer ${config.apiToken}`;
  const top = (await (await fetch(`${url}/api/dashboard`)).json()) as { top: { name: string }[] };
  const names = top.top.slice(0, 3).map((t) => t.name);
  for (const name of names) {
    const stats = await fetch(`${url}/api/products/${encodeURIComponent(name)}/stats`);
    if (stats.status !== 404) return; // already has scores: a second demo run adds nothing
  }
  let i = 0;
  for (const name of names) {
    for (let k = 0; k < 12; k++) {
      const score = ((i++ * 37) % 51) / 10; // 0.0 .. 5.0, spread
      await fetch(`${url}/api/push`, { method: 'POST', headers, body: JSON.stringify({ name, score, username: `demo-user-${k % 3}` }) });
    }
  }
  const platforms = ['ios', 'android'];
  for (let k = 0; k < 30; k++) {
    const q = new URLSearchParams({
      sdk_version: `2.${k % 3}.0`,
      session_id: `s${k}`,
      platform: platforms[k % 2],
      username: `demo-user-${k % 4}`,
      country_code: 'DE',
    });
    await fetch(`${url}/ad?${q.toString()}`);
    if (k % 3 !== 0) await fetch(`${url}/impression?${q.toString()}`);
  }
}
