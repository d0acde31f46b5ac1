/**
 * The migrations that take personal data out of append-only tables also clean the
 * rows written before them: each is taken down, old-style rows are written, and
 * it is applied again.
 */
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/database.js';
import * as acknowledgements from '../../migrations/2026-11-30T14-00-00_acknowledgements-beside-ledger.js';
import * as audit from '../../migrations/2026-11-30T14-10-00_audit-without-personal-values.js';
import { createTestDatabase } from '../support/test-app.js';

describe('migrations that move personal data out of append-only tables', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handle: DatabaseHandle;
  let db: Kysely<any>;
  beforeAll(async () => {
    database = await createTestDatabase();
    handle = connectDatabase(database.url, { max: 2 });
    db = handle.db as Kysely<any>;
  });
  afterAll(async () => {
    await handle.close();
    await database.drop();
  });

  it('when the audit migration runs over old entries, then names, addresses, search words and actor emails are gone, and the changed fields stay', async () => {
    await audit.down(db);
    const person = await sql<{ id: string }>`insert into people (email, name) values ('olga-old@example.org', 'Olga Old') returning id`.execute(db);
    const personId = person.rows[0]!.id;
    await sql`
      insert into audit_log (at, actor_id, actor_email, action, subject_type, subject_id, before, after) values
        (now(), ${personId}, 'olga-old@example.org', 'person.details_changed', 'person', ${personId},
         '{"name": "Olga Old", "postalAddress": null, "emailPreferences": {"fundAppeals": false}}',
         '{"name": "Olga New", "postalAddress": {"line1": "1 Ink Street", "town": "Leeds"}, "emailPreferences": {"fundAppeals": false}}'),
        (now(), ${personId}, 'olga-old@example.org', 'member.details_changed', 'member', '7', '{"town": "Leeds"}', '{"town": "Hull"}'),
        (now(), ${personId}, 'olga-old@example.org', 'ledger.offline_gift_recorded', 'ledger_entry', '1', null, '{"amount": 500, "name": "Olga Old", "town": "Leeds"}'),
        (now(), ${personId}, 'olga-old@example.org', 'register.searched', 'register', 'members', null, '{"query": "olga", "results": 1}')`.execute(db);
    await audit.up(db);

    const { rows } = await sql<{ action: string; before: unknown; after: unknown }>`
      select action, before, after from audit_log where actor_id = ${personId} order by id`.execute(db);
    expect(rows).toEqual([
      { action: 'person.details_changed', before: null, after: { fields: ['name', 'postalAddress'] } },
      { action: 'member.details_changed', before: null, after: { fields: ['town'] } },
      { action: 'ledger.offline_gift_recorded', before: null, after: { amount: 500 } },
      { action: 'register.searched', before: null, after: { results: 1 } },
    ]);
    const text = await sql<{ t: string }>`select string_agg(a::text, ' ') as t from audit_log a`.execute(db);
    expect(text.rows[0]!.t).not.toMatch(/Olga|olga|Ink Street|Leeds|Hull/);
    // The log still refuses changes.
    await expect(sql`update audit_log set after = null`.execute(db)).rejects.toThrow(/append-only/);
  });

  it('when the acknowledgements migration runs over old entries, then names move beside the ledger and out of it', async () => {
    await acknowledgements.down(db);
    const campaign = await sql<{ id: string }>`select id from campaigns limit 1`.execute(db);
    let campaignId = campaign.rows[0]?.id;
    if (!campaignId) {
      const made = await sql<{ id: string }>`
        insert into campaigns (slug, title, kind, target, currency, starts_at, deadline)
        values ('2026-11', 'November', 'monthly', 100, 'GBP', '2026-11-01', '2026-12-01') returning id`.execute(db);
      campaignId = made.rows[0]!.id;
    }
    const entry = await sql<{ id: number }>`
      insert into ledger_entries (campaign_id, kind, method, amount, currency, given_at, source_ref, acknowledged, donor_name, donor_town)
      values (${campaignId}, 'offline_gift', 'cash', 700, 'GBP', now(), 'old-1', true, 'Otto Oldgift', 'Selby') returning id`.execute(db);
    await acknowledgements.up(db);

    const moved = await sql`select entry_id, name, town from ledger_acknowledgements where entry_id = ${entry.rows[0]!.id}`.execute(db);
    expect(moved.rows).toEqual([{ entry_id: entry.rows[0]!.id, name: 'Otto Oldgift', town: 'Selby' }]);
    const ledgerText = await sql<{ t: string }>`select string_agg(e::text, ' ') as t from ledger_entries e`.execute(db);
    expect(ledgerText.rows[0]!.t).not.toContain('Otto');
    // Erasable: the name can go while the entry stays.
    await sql`delete from ledger_acknowledgements where entry_id = ${entry.rows[0]!.id}`.execute(db);
    expect((await sql`select amount from ledger_entries where id = ${entry.rows[0]!.id}`.execute(db)).rows).toEqual([{ amount: 700 }]);
  });
});
