/**
 * Only an application made by the signed-in owner of the address holds room under
 * the holding cap while it awaits payment (SPEC 1 "Shares"): anyone can type any
 * address, so an anonymous application is checked only against its own amount,
 * reserves nothing, and meets the holding when its payment arrives. Applications
 * awaiting payment before this change were checked in full and keep their room.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table share_applications add column holds_room boolean not null default false`.execute(db);
  await sql`update share_applications set holds_room = true where status in ('pending', 'processing')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table share_applications drop column holds_room`.execute(db);
}
