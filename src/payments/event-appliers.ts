/**
 * The registry of what each Stripe event type does to our records, open to every
 * component: payments registers the checkout, refund and dispute appliers
 * (payment-event-appliers.ts); supporters registers invoice.* and
 * customer.subscription.*; the composition root (composition.ts) builds one
 * registry for the job that applies events (apply-stripe-events.ts).
 *
 * An applier has two steps, typed by the event type it is registered for (so
 * `event.data.object` is the Stripe object of that type, with no casts):
 *
 * - `prepare(ctx, event)`, OUTSIDE any transaction: fetches from Stripe whatever
 *   `apply` will need (a charge's refunds, a PaymentIntent's metadata, a
 *   subscription for an event that cannot be ordered). It may read the database
 *   through `ctx.deps.db` but must not write or lock. It can run more than once
 *   for one event (a retry), so it only reads. A thrown error fails the event,
 *   which the job retries with backoff.
 * - `apply(ctx, event, prepared)`, INSIDE the event's transaction (`ctx.trx`),
 *   with the result of `prepare`: no network call here, only SQL, so locks are
 *   held for as short a time as the database needs. It finds our records ONLY
 *   through ids we gave Stripe, never by email, and returns 'applied' or
 *   'ignored' (an event about an object we did not create). A thrown error rolls
 *   the whole event back; it is then retried, so `apply` must leave nothing
 *   half-done outside the transaction.
 *
 *     registry.on('invoice.paid', {
 *       prepare: async (ctx, event) => ctx.deps.stripe.subscriptions.retrieve(idOf(event.data.object.subscription)),
 *       apply: async (ctx, event, subscription) => { ...; return applied('...'); },
 *     });
 *     registry.on('checkout.session.expired', async (ctx, event) => { ... }); // nothing to prepare
 *
 * Types with no applier are acknowledged and recorded as ignored.
 */
import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { AppDeps } from '../deps.js';
import type { DB } from '../db/schema.js';
import type { PaymentHandlers } from './payment-handlers.js';

export type StripeEventType = Stripe.Event['type'];
/** The event of one type, whose `data.object` is that type's Stripe object. */
export type StripeEventOf<T extends StripeEventType> = Extract<Stripe.Event, { type: T }>;

export interface EventOutcome {
  outcome: 'applied' | 'ignored';
  note: string | null;
}

/** What `prepare` gets: no transaction. */
export interface PrepareContext {
  deps: AppDeps;
}

/** What `apply` gets: the event's transaction, and the payment handlers by checkout purpose. */
export interface ApplyContext {
  deps: AppDeps;
  trx: Transaction<DB>;
  handlers: PaymentHandlers;
}

export interface EventApplier<T extends StripeEventType, P> {
  prepare(ctx: PrepareContext, event: StripeEventOf<T>): Promise<P>;
  apply(ctx: ApplyContext, event: StripeEventOf<T>, prepared: P): Promise<EventOutcome>;
}

/** An applier with nothing to fetch first. */
export type TransactionOnlyApplier<T extends StripeEventType> = (ctx: ApplyContext, event: StripeEventOf<T>) => Promise<EventOutcome>;

/** An event whose `prepare` step is done: `apply` runs it in the transaction given. */
export interface PreparedEvent {
  event: Stripe.Event;
  apply(ctx: ApplyContext): Promise<EventOutcome>;
}

export const applied = (note: string | null = null): EventOutcome => ({ outcome: 'applied', note });
export const ignored = (note: string): EventOutcome => ({ outcome: 'ignored', note });

function isOfType<T extends StripeEventType>(event: Stripe.Event, type: T): event is StripeEventOf<T> {
  return event.type === type;
}

type Preparer = (ctx: PrepareContext, event: Stripe.Event) => Promise<PreparedEvent>;

export class EventAppliers {
  private readonly byType = new Map<string, Preparer>();

  /** Registers what events of `type` do; one applier per type (a second registration is a wiring mistake). */
  on<T extends StripeEventType>(type: T, applier: TransactionOnlyApplier<T>): this;
  on<T extends StripeEventType, P>(type: T, applier: EventApplier<T, P>): this;
  on<T extends StripeEventType, P>(type: T, applier: EventApplier<T, P> | TransactionOnlyApplier<T>): this {
    if (this.byType.has(type)) throw new Error(`an applier for Stripe event type ${type} is registered already`);
    this.byType.set(type, async (ctx, event) => {
      if (!isOfType(event, type)) throw new Error(`event ${event.id} is a ${event.type}, not a ${type}`);
      if (typeof applier === 'function') return { event, apply: (actx) => applier(actx, event) };
      const prepared = await applier.prepare(ctx, event);
      return { event, apply: (actx) => applier.apply(actx, event, prepared) };
    });
    return this;
  }

  handles(type: string): boolean {
    return this.byType.has(type);
  }

  /** The prepare step of the event's applier (outside any transaction); an unhandled type applies as 'ignored'. */
  async prepare(ctx: PrepareContext, event: Stripe.Event): Promise<PreparedEvent> {
    const preparer = this.byType.get(event.type);
    if (!preparer) return { event, apply: () => Promise.resolve(ignored(`event type ${event.type} is not handled`)) };
    return preparer(ctx, event);
  }
}
