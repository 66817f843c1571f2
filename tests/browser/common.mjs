// What every browser script checks and keeps at the end of its run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Requests that left the server: every http(s)/ws(s) URL must be the server's; blob: and
// data: URLs are local to the page.
export function outsideRequests(requests, serverHost) {
  return requests.filter((u) => {
    const url = new URL(u);
    if (url.protocol === 'blob:' || url.protocol === 'data:') return false;
    return !['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol) || url.host !== serverHost;
  });
}

// Screenshots of every open page after a failure, for the artefacts.
export async function screenshotAll(browser, dir, prefix) {
  for (const [i, ctx] of browser.contexts().entries()) {
    for (const [j, p] of ctx.pages().entries()) {
      await p.screenshot({ path: join(dir, `${prefix}failure-${i}-${j}.png`) }).catch(() => {});
    }
  }
}

// Writes the request list and results, rethrows a failure, then asserts that no request
// left the server and that nothing went wrong on the pages.
export function finish({ dir, prefix, requests, results, problems, serverHost, failed, log }) {
  const outside = outsideRequests(requests, serverHost);
  results.requests = requests.length;
  writeFileSync(join(dir, `${prefix}requests.txt`), requests.join('\n'));
  writeFileSync(join(dir, `${prefix}results.json`), JSON.stringify(results, null, 2));
  if (failed) throw failed;
  if (outside.length > 0) {
    throw new Error(`requests left the server: ${[...new Set(outside)].slice(0, 10).join(', ')}`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  log(`${requests.length} requests, all to ${serverHost}`);
  log(`results: ${JSON.stringify(results)}`);
}
