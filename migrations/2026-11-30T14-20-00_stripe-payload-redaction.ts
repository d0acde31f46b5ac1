/**
 * Stored Stripe events keep what we need to audit a payment (ids, amounts, our
 * metadata, statuses) but not who paid: once an event is applied, and at the
 * latest when the person asks for erasure, its personal fields (emails, names,
 * addresses, phones, IP addresses, billing and shipping details, dispute
 * evidence) are set to null.
 *
 * The inbox stays append-only for everything else: the trigger lets one UPDATE
 * through per event, the one that replaces the payload with
 * stripe_payload_redacted(payload) and stamps redacted_at, changing nothing else.
 * The list of fields lives here, in the database, so the rule and the check are
 * one piece of code.
 */
import { sql, type Kysely } from 'kysely';

const PERSONAL_KEYS = [
  'customer_email', 'customer_details', 'customer_name', 'customer_address', 'customer_phone', 'customer_shipping',
  'customer_tax_ids', 'customer_email_address', 'customer_purchase_ip', 'customer_signature',
  'billing_details', 'billing_address', 'shipping', 'shipping_details', 'shipping_address', 'collected_information',
  'custom_fields', 'receipt_email', 'email', 'name', 'phone', 'address', 'first_name', 'last_name',
  'account_holder_name', 'ip_address', 'client_ip', 'evidence', 'verified_name', 'verified_email', 'verified_phone',
  'verified_address',
];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table stripe_events add column redacted_at timestamptz`.execute(db);
  await sql`
    create function stripe_payload_redacted(p jsonb) returns jsonb
    language plpgsql immutable strict as $$
    declare
      k text;
      v jsonb;
      r jsonb;
    begin
      if jsonb_typeof(p) = 'object' then
        r := '{}'::jsonb;
        for k, v in select * from jsonb_each(p) loop
          if k = any (${sql.raw(`array[${PERSONAL_KEYS.map((key) => `'${key}'`).join(', ')}]`)}) then
            r := r || jsonb_build_object(k, null);
          else
            r := r || jsonb_build_object(k, stripe_payload_redacted(v));
          end if;
        end loop;
        return r;
      elsif jsonb_typeof(p) = 'array' then
        return coalesce((select jsonb_agg(stripe_payload_redacted(e) order by i) from jsonb_array_elements(p) with ordinality as a(e, i)), '[]'::jsonb);
      end if;
      return p;
    end
    $$`.execute(db);
  await sql`
    create function stripe_events_redaction_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE'
         and old.redacted_at is null and new.redacted_at is not null
         and new.payload = stripe_payload_redacted(old.payload)
         and (to_jsonb(new) - 'payload' - 'redacted_at') = (to_jsonb(old) - 'payload' - 'redacted_at') then
        return new;
      end if;
      raise exception 'stripe_events is append-only: % refused (only the redaction of personal fields is allowed)', tg_op
        using errcode = 'raise_exception';
    end
    $$`.execute(db);
  await sql`drop trigger stripe_events_append_only on stripe_events`.execute(db);
  await sql`create trigger stripe_events_append_only before update or delete on stripe_events
            for each row execute function stripe_events_redaction_only()`.execute(db);
  await sql`create trigger stripe_events_no_truncate before truncate on stripe_events
            for each statement execute function refuse_change()`.execute(db);
  // The periodic redaction looks for applied events not yet redacted.
  await sql`create index stripe_events_unredacted on stripe_events (received_at) where redacted_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index stripe_events_unredacted`.execute(db);
  await sql`drop trigger stripe_events_no_truncate on stripe_events`.execute(db);
  await sql`drop trigger stripe_events_append_only on stripe_events`.execute(db);
  await sql`create trigger stripe_events_append_only before update or delete on stripe_events
            for each row execute function refuse_change()`.execute(db);
  await sql`drop function stripe_events_redaction_only()`.execute(db);
  await sql`drop function stripe_payload_redacted(jsonb)`.execute(db);
  await sql`alter table stripe_events drop column redacted_at`.execute(db);
}
