/**
 * Erasure of share applications (POST /api/me/erasure): an applicant's personal
 * details on an application can be erased while the application itself (amount,
 * status, payment and refund references: accounting records) stays.
 *
 * `erased_at` says when, so an empty date of birth on a person's application is
 * explained rather than a broken row: the applicant check now accepts a missing
 * date of birth on an erased application. The register of members (the members
 * table) is untouched by erasure: the law requires it to be kept.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('share_applications').addColumn('erased_at', 'timestamptz').execute();
  await sql`alter table share_applications drop constraint share_applications_applicant`.execute(db);
  await sql`
    alter table share_applications add constraint share_applications_applicant check (
      case applicant_kind
        when 'person' then (date_of_birth is not null or erased_at is not null) and not registered_society
        else date_of_birth is null
      end
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table share_applications drop constraint share_applications_applicant`.execute(db);
  await sql`
    alter table share_applications add constraint share_applications_applicant check (
      case applicant_kind
        when 'person' then date_of_birth is not null and not registered_society
        else date_of_birth is null
      end
    )`.execute(db);
  await db.schema.alterTable('share_applications').dropColumn('erased_at').execute();
}
