/**
 * Co-operative shares: applications, the register of members, the append-only
 * share transactions that move holdings, money given back on share payments
 * (refunds, lost disputes) and withdrawal requests.
 *
 * Member numbers come from a sequence: nextval() is never rolled back, so a
 * number is never handed out twice, even when the allotment that drew it fails.
 * A member's holding (shares_held, amount_paid) is kept by a trigger on every
 * share transaction, so it cannot drift from the transactions that justify it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence member_number_seq as bigint start with 1 minvalue 1 no cycle`.execute(db);

  await db.schema
    .createTable('members')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('number', 'bigint', (c) => c.notNull().unique().defaultTo(sql`nextval('member_number_seq')`))
    // The person (sign-in account) who applied: for an organisation, its contact.
    .addColumn('person_id', 'uuid', (c) => c.notNull().references('people.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('person', 'organisation')`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`length(name) between 1 and 200`))
    .addColumn('address_line1', 'text', (c) => c.notNull())
    .addColumn('address_line2', 'text')
    .addColumn('town', 'text', (c) => c.notNull())
    .addColumn('postcode', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    // The address notices go to; null when the member asked for notices by post only.
    .addColumn('email', 'text')
    .addColumn('registered_society', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('admitted_on', 'date', (c) => c.notNull())
    .addColumn('ceased_on', 'date')
    .addColumn('shares_held', 'integer', (c) => c.notNull().defaultTo(0).check(sql`shares_held >= 0`))
    .addColumn('amount_paid', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`amount_paid >= 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('members_ceased_after_admitted', sql`ceased_on is null or ceased_on >= admitted_on`)
    .addCheckConstraint('members_society_is_organisation', sql`not registered_society or kind = 'organisation'`)
    .execute();
  await sql`alter sequence member_number_seq owned by members.number`.execute(db);
  // A person holds at most one current membership; a former member who rejoins gets a new number.
  await sql`create unique index members_one_current_per_person on members (person_id) where ceased_on is null`.execute(db);
  await sql`create index members_person on members (person_id)`.execute(db);
  await sql`create index members_postcode on members (upper(replace(postcode, ' ', '')))`.execute(db);
  await sql`create index members_email on members (lower(email))`.execute(db);

  // The register keeps former members: rows are never deleted and a number never changes.
  await sql`
    create function members_protect() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and new.number is distinct from old.number then
        raise exception 'a member number never changes' using errcode = 'raise_exception';
      end if;
      if tg_op = 'UPDATE' then
        return new;
      end if;
      raise exception 'members are never deleted: record the date ceased instead' using errcode = 'raise_exception';
    end
    $$`.execute(db);
  await sql`create trigger members_protect before update or delete on members
            for each row execute function members_protect()`.execute(db);
  await sql`create trigger members_no_truncate before truncate on members
            for each statement execute function refuse_change()`.execute(db);

  await db.schema
    .createTable('share_applications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('person_id', 'uuid', (c) => c.notNull().references('people.id'))
    // The membership it tops up (set when applied for by a current member), or the one it created.
    .addColumn('member_id', 'uuid', (c) => c.references('members.id'))
    .addColumn('applicant_kind', 'text', (c) => c.notNull().check(sql`applicant_kind in ('person', 'organisation')`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`length(name) between 1 and 200`))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('address_line1', 'text', (c) => c.notNull())
    .addColumn('address_line2', 'text')
    .addColumn('town', 'text', (c) => c.notNull())
    .addColumn('postcode', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('date_of_birth', 'date')
    .addColumn('registered_society', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('shares', 'integer', (c) => c.notNull().check(sql`shares > 0`))
    .addColumn('price_per_share', 'bigint', (c) => c.notNull().check(sql`price_per_share > 0`))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'processing', 'allotted', 'expired', 'failed', 'refused', 'reversed')`),
    )
    .addColumn('refusal_reason', 'text')
    .addColumn('rules_accepted_at', 'timestamptz', (c) => c.notNull())
    .addColumn('rules_url', 'text', (c) => c.notNull())
    .addColumn('payment_intent_id', 'text')
    .addColumn('paid_at', 'timestamptz')
    .addColumn('refund_id', 'text')
    .addColumn('refunded_at', 'timestamptz')
    .addColumn('dispute_status', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('share_applications_amount', sql`amount = shares * price_per_share`)
    .addCheckConstraint(
      'share_applications_applicant',
      sql`case applicant_kind
            when 'person' then date_of_birth is not null and not registered_society
            else date_of_birth is null
          end`,
    )
    .addCheckConstraint('share_applications_refused_has_reason', sql`(status = 'refused') = (refusal_reason is not null)`)
    .execute();
  await sql`create index share_applications_person_status on share_applications (person_id, status)`.execute(db);
  await sql`create index share_applications_stale on share_applications (created_at) where status = 'pending'`.execute(db);

  await db.schema
    .createTable('share_withdrawals')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('member_id', 'uuid', (c) => c.notNull().references('members.id'))
    .addColumn('shares', 'integer', (c) => c.notNull().check(sql`shares > 0`))
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('requested').check(sql`status in ('requested', 'approved', 'rejected', 'deferred', 'paid')`),
    )
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
    .addColumn('requested_by', 'uuid', (c) => c.notNull().references('people.id'))
    // The earliest day the society has to pay, from the notice period in force when asked.
    .addColumn('notice_ends_on', 'date', (c) => c.notNull())
    .addColumn('decided_at', 'timestamptz')
    .addColumn('decided_by', 'uuid', (c) => c.references('people.id'))
    .addColumn('note', 'text')
    .addColumn('paid_at', 'timestamptz')
    .addColumn('paid_by', 'uuid', (c) => c.references('people.id'))
    .addColumn('amount', 'bigint', (c) => c.check(sql`amount >= 0`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('share_withdrawals_paid', sql`(status = 'paid') = (paid_at is not null and amount is not null)`)
    .execute();
  await sql`create index share_withdrawals_member on share_withdrawals (member_id, status)`.execute(db);
  await sql`create index share_withdrawals_status on share_withdrawals (status, requested_at)`.execute(db);

  await db.schema
    .createTable('share_transactions')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('member_id', 'uuid', (c) => c.notNull().references('members.id'))
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('allotment', 'withdrawal', 'transfer_on_death', 'forfeit', 'reversal')`),
    )
    .addColumn('shares', 'integer', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('effective_on', 'date', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('application_id', 'uuid', (c) => c.references('share_applications.id'))
    .addColumn('withdrawal_id', 'uuid', (c) => c.unique().references('share_withdrawals.id'))
    // Not unique: an allotment can be taken back by several partial refunds; the Stripe key
    // below is what makes each refund count once.
    .addColumn('reverses_transaction_id', 'bigint', (c) => c.references('share_transactions.id'))
    // 'payment:pi_..', 'refund:re_..', 'dispute:dp_..': each Stripe object moves a holding once.
    .addColumn('stripe_key', 'text', (c) => c.unique())
    .addColumn('note', 'text')
    .addColumn('recorded_by', 'uuid', (c) => c.references('people.id'))
    .addCheckConstraint('share_transactions_moves_something', sql`shares <> 0 or amount <> 0`)
    .addCheckConstraint(
      'share_transactions_sign_matches_kind',
      sql`case kind
            when 'allotment' then shares > 0 and amount > 0
            when 'transfer_on_death' then true
            else shares <= 0 and amount <= 0
          end`,
    )
    .addCheckConstraint('share_transactions_reversal_reverses', sql`(kind = 'reversal') = (reverses_transaction_id is not null)`)
    .addCheckConstraint('share_transactions_withdrawal_has_request', sql`kind <> 'withdrawal' or withdrawal_id is not null`)
    .execute();
  await sql`create index share_transactions_member on share_transactions (member_id, id)`.execute(db);
  await sql`create index share_transactions_application on share_transactions (application_id)`.execute(db);
  await sql`create index share_transactions_reverses on share_transactions (reverses_transaction_id)`.execute(db);
  await sql`create trigger share_transactions_append_only before update or delete on share_transactions
            for each row execute function refuse_change()`.execute(db);
  await sql`create trigger share_transactions_no_truncate before truncate on share_transactions
            for each statement execute function refuse_change()`.execute(db);
  await sql`
    create function share_transactions_apply() returns trigger language plpgsql as $$
    begin
      update members
         set shares_held = shares_held + new.shares,
             amount_paid = amount_paid + new.amount,
             updated_at = new.recorded_at
       where id = new.member_id;
      return null;
    end
    $$`.execute(db);
  await sql`create trigger share_transactions_apply after insert on share_transactions
            for each row execute function share_transactions_apply()`.execute(db);

  // Money Stripe gave back on a share payment (a refund, a lost dispute), whether or not
  // the shares had been allotted yet: an early refund is remembered until its payment arrives.
  await db.schema
    .createTable('share_payment_returns')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('application_id', 'uuid', (c) => c.notNull().references('share_applications.id'))
    .addColumn('stripe_key', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('refund', 'dispute_lost')`))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('returned_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index share_payment_returns_application on share_payment_returns (application_id)`.execute(db);
  await sql`create trigger share_payment_returns_append_only before update or delete on share_payment_returns
            for each row execute function refuse_change()`.execute(db);
  await sql`create trigger share_payment_returns_no_truncate before truncate on share_payment_returns
            for each statement execute function refuse_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('share_payment_returns').execute();
  await db.schema.dropTable('share_transactions').execute();
  await sql`drop function share_transactions_apply()`.execute(db);
  await db.schema.dropTable('share_withdrawals').execute();
  await db.schema.dropTable('share_applications').execute();
  await db.schema.dropTable('members').execute();
  await sql`drop function members_protect()`.execute(db);
}
