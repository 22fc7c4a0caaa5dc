import type { UsageLedger } from './usage-ledger.js';
import { utcDay } from './usage-ledger.js';

/**
 * Credits a team spent this UTC month, summed from the daily ledger in one pipelined
 * read (up to 31 hashes). Read only for teams with a monthly budget; it depends on the
 * ledger's report, not on how usage is written, so it holds whichever path bills a job.
 */
export async function creditsThisMonth(ledger: UsageLedger, team: string, now = new Date()): Promise<number> {
  const today = utcDay(now);
  const rows = await ledger.report(team, `${today.slice(0, 7)}-01`, today);
  return rows.reduce((sum, r) => sum + r.credits, 0);
}
