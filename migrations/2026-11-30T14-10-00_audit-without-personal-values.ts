/**
 * The audit log is append-only, so whatever personal data it holds outlives an
 * erasure. From now on it records which fields changed, not their values, and
 * who acted by id only (the actor's email is read from `people` when shown, and
 * so follows that person's erasure). This migration scrubs the rows written
 * before: the one place the log's append-only trigger is set aside, inside this
 * transaction.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db);
  // A details change keeps the names of the fields that changed.
  await sql`
    update audit_log set
      after = jsonb_build_object('fields', coalesce((
        select jsonb_agg(k order by k) from (
          select jsonb_object_keys(coalesce(before, '{}'::jsonb) || coalesce(after, '{}'::jsonb)) as k
        ) keys
        where (before -> k) is distinct from (after -> k)), '[]'::jsonb)),
      before = null
    where action in ('person.details_changed', 'member.details_changed')`.execute(db);
  // Offline gifts and their reversals carried the donor's name and town.
  await sql`
    update audit_log set before = before - 'name' - 'town', after = after - 'name' - 'town'
     where action like 'ledger.%' and (before ?| array['name', 'town'] or after ?| array['name', 'town'])`.execute(db);
  // An admin's search words are often a person's name or email.
  await sql`update audit_log set after = after - 'query' where action = 'register.searched' and after ? 'query'`.execute(db);
  await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db);
  await sql`alter table audit_log drop column actor_email`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // The scrubbed values are gone for good; the actors' emails come back from people.
  await sql`alter table audit_log add column actor_email text`.execute(db);
  await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db);
  await sql`update audit_log a set actor_email = p.email from people p where p.id = a.actor_id`.execute(db);
  await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db);
}
