/**
 * The board's desk in the browser (admin or treasurer; people and roles: admin):
 *   /admin/members              search the register by name, email, number or postcode; download it
 *   /admin/members/:number      a member's entry, holding, transactions, withdrawals; change by letter
 *   /admin/withdrawals          the queue with the notice period running; approve, reject, defer, mark paid
 *   /admin/people               people and their roles (admin only)
 *   /admin/audit                the audit log, filtered by actor, subject and action
 * Every action goes through the owning component's service, which audits it.
 */
import { Router, type Request, type Response } from 'express';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { AppError } from '../lib/errors.js';
import { parseInput } from '../lib/http.js';
import type { ZodOpenApiPathsObject } from '../lib/openapi.js';
import { currentActor } from '../members/access.js';
import { grantRole, revokeRole, searchPeople } from '../members/people.service.js';
import { changeRegisterEntry, memberRecord } from '../shares/member-records.service.js';
import { searchRegister } from '../shares/register-search.js';
import { localDate } from '../shares/share-rules.js';
import { decideWithdrawal, listShareWithdrawals } from '../shares/withdrawals.service.js';
import { adminOnlyPages, adminPagesErrorHandler, adminPagesOpenApi, field, renderAdminPage, tryAction } from './admin-pages.js';
import { auditPage } from './audit.service.js';

const numberParam = z.object({ number: z.string().regex(/^[1-9]\d{0,14}$/, 'must be a member number').transform(Number) });
const withdrawalParams = z.object({ id: z.uuid(), action: z.enum(['approve', 'reject', 'defer', 'paid']) });
const roleParams = z.object({ id: z.uuid(), role: z.enum(['admin', 'treasurer']), change: z.enum(['grant', 'revoke']) });
const text = (max: number) => z.string().trim().max(max).optional().transform((s) => s || undefined);
const membersQuery = z.object({ query: text(200), page: z.coerce.number().int().min(1).max(100_000).optional().default(1), done: z.string().max(40).optional() });
const withdrawalsQuery = z.object({
  status: z.enum(['open', 'requested', 'approved', 'rejected', 'deferred', 'paid', 'all']).optional().default('open'),
  done: z.string().max(40).optional(),
});
const peopleQuery = z.object({ query: text(200), done: z.string().max(40).optional() });
const auditFilter = z.object({
  actor: text(320),
  subjectType: text(50),
  subjectId: text(200),
  action: z
    .string()
    .trim()
    .max(100)
    .regex(/^([a-z_]+(\.[a-z_]*)*)?$/, 'must be an action such as ledger.entry_reversed, or a prefix such as ledger.')
    .optional()
    .transform((s) => s || undefined),
  before: z.coerce.number().int().positive().optional(),
});

export function membersDeskRouter(deps: AppDeps): Router {
  const router = Router();
  const pages = adminOnlyPages(deps);
  const adminPages = adminOnlyPages(deps, ['admin']);
  const tz = deps.config.society.timeZone;

  // ---- Members ------------------------------------------------------------------------

  router.get('/admin/members', ...pages, async (req, res) => {
    const q = parseInput(membersQuery, req.query);
    const result = q.query ? await searchRegister(deps, currentActor(req), { query: q.query, page: q.page, pageSize: 50 }) : null;
    await renderAdminPage(deps, req, res, 'members', { title: 'Members', query: q.query, result });
  });

  const memberPage = async (req: Request, res: Response, number: number, vars: Record<string, unknown> = {}, status = 200) => {
    const record = await memberRecord(deps, number);
    await renderAdminPage(deps, req, res, 'members-entry', { title: `Member ${number}`, record, values: {}, ...vars }, status);
  };

  router.get('/admin/members/:number', ...pages, async (req, res) => {
    const { number } = parseInput(numberParam, req.params);
    await memberPage(req, res, number);
  });

  router.post('/admin/members/:number/details', ...pages, async (req, res) => {
    const { number } = parseInput(numberParam, req.params);
    const b = req.body as unknown;
    const values = {
      name: field(b, 'name'),
      line1: field(b, 'line1'),
      line2: field(b, 'line2'),
      town: field(b, 'town'),
      postcode: field(b, 'postcode'),
      country: field(b, 'country'),
      source: field(b, 'source'),
    };
    const result = await tryAction(async () => {
      const anyAddress = values.line1 || values.town || values.postcode || values.country;
      if (!values.source) throw new AppError({ code: 'invalid_request', status: 400, message: 'Say where the change came from, such as "letter of 12 November".' });
      if (!values.name && !anyAddress) throw new AppError({ code: 'invalid_request', status: 400, message: 'Give the new name, the new address, or both.' });
      if (anyAddress && !(values.line1 && values.town && values.postcode && values.country)) {
        throw new AppError({ code: 'invalid_request', status: 400, message: 'A new address needs its first line, town, postcode and country.' });
      }
      if (Object.values(values).some((v) => v && v.length > 200)) throw new AppError({ code: 'invalid_request', status: 400, message: 'Each field is at most 200 characters.' });
      return changeRegisterEntry(deps, currentActor(req), number, {
        name: values.name,
        address: anyAddress ? { line1: values.line1!, line2: values.line2, town: values.town!, postcode: values.postcode!, country: values.country! } : undefined,
        source: values.source,
      });
    });
    if (result.ok) return res.redirect(303, `/admin/members/${number}?done=member_changed`);
    await memberPage(req, res, number, { error: result.error, values }, result.error.status);
  });

  // ---- Withdrawals ------------------------------------------------------------------------

  const withdrawalsPage = async (req: Request, res: Response, vars: Record<string, unknown> = {}, status = 200) => {
    const q = parseInput(withdrawalsQuery, req.query);
    const all = await listShareWithdrawals(deps, {});
    const today = localDate(deps.clock.now(), tz);
    const shown = all
      .filter((w) => (q.status === 'all' ? true : q.status === 'open' ? ['requested', 'deferred', 'approved'].includes(w.status) : w.status === q.status))
      .map((w) => ({
        ...w,
        noticeDaysLeft: Math.max(0, Math.round(DateTime.fromISO(w.noticeEndsOn).diff(DateTime.fromISO(today), 'days').days)),
        actions: ({ requested: ['approve', 'defer', 'reject'], deferred: ['approve', 'reject'], approved: ['paid', 'defer', 'reject'] } as Record<string, string[]>)[w.status] ?? [],
      }));
    await renderAdminPage(deps, req, res, 'withdrawals', { title: 'Share withdrawals', status: q.status, withdrawals: shown, ...vars }, status);
  };

  router.get('/admin/withdrawals', ...pages, (req, res) => withdrawalsPage(req, res));

  router.post('/admin/withdrawals/:id/:action', ...pages, async (req, res) => {
    const { id, action } = parseInput(withdrawalParams, req.params);
    const note = field(req.body, 'note')?.slice(0, 1000);
    const result = await tryAction(() => decideWithdrawal(deps, currentActor(req), id, action, note));
    const done = { approve: 'withdrawal_approved', reject: 'withdrawal_rejected', defer: 'withdrawal_deferred', paid: 'withdrawal_paid' }[action];
    if (result.ok) return res.redirect(303, `/admin/withdrawals?done=${done}`);
    await withdrawalsPage(req, res, { error: result.error }, result.error.status);
  });

  // ---- People and roles (admin only) ---------------------------------------------------------

  const peoplePage = async (req: Request, res: Response, vars: Record<string, unknown> = {}, status = 200) => {
    const q = parseInput(peopleQuery, req.query);
    const people = await searchPeople(deps.db, q.query, 50);
    const withRoles = q.query ? people : people.filter((p) => p.roles.length > 0);
    await renderAdminPage(deps, req, res, 'people', { title: 'People and roles', query: q.query, people: withRoles, ...vars }, status);
  };

  router.get('/admin/people', ...adminPages, (req, res) => peoplePage(req, res));

  router.post('/admin/people/:id/roles/:role/:change', ...adminPages, async (req, res) => {
    const { id, role, change } = parseInput(roleParams, req.params);
    const result = await tryAction(() => (change === 'grant' ? grantRole : revokeRole)(deps, currentActor(req), id, role));
    if (result.ok) return res.redirect(303, `/admin/people?done=${change === 'grant' ? 'role_granted' : 'role_revoked'}`);
    await peoplePage(req, res, { error: result.error }, result.error.status);
  });

  // ---- Audit log ----------------------------------------------------------------------------

  router.get('/admin/audit', ...pages, async (req, res) => {
    const f = parseInput(auditFilter, req.query);
    const page = await auditPage(deps.db, {
      limit: 50,
      ...(f.actor ? (z.uuid().safeParse(f.actor).success ? { actorId: f.actor } : { actorEmail: f.actor }) : {}),
      ...(f.subjectType ? { subjectType: f.subjectType } : {}),
      ...(f.subjectId ? { subjectId: f.subjectId } : {}),
      ...(f.action ? { action: f.action } : {}),
      ...(f.before ? { before: f.before } : {}),
    });
    const next = new URLSearchParams(
      Object.entries({ actor: f.actor, subjectType: f.subjectType, subjectId: f.subjectId, action: f.action, before: page.nextBefore ? String(page.nextBefore) : undefined }).filter(
        (e): e is [string, string] => !!e[1],
      ),
    );
    await renderAdminPage(deps, req, res, 'audit', {
      title: 'Audit log',
      filter: f,
      entries: page.entries.map((e) => ({ ...e, details: JSON.stringify({ before: e.before ?? undefined, after: e.after ?? undefined }) })),
      nextQuery: page.nextBefore ? next.toString() : null,
    });
  });

  router.use('/admin', adminPagesErrorHandler(deps));
  return router;
}

export const membersDeskOpenApi: ZodOpenApiPathsObject = adminPagesOpenApi([
  ['get', '/admin/members', 'Search the register by name, email, member number or postcode'],
  ['get', '/admin/members/{number}', "A member's register entry, holding, share transactions and withdrawals"],
  ['post', '/admin/members/{number}/details', 'Record a change of name or address received by letter (the register entry follows; audited)'],
  ['get', '/admin/withdrawals', 'The queue of share withdrawals with their notice periods'],
  ['post', '/admin/withdrawals/{id}/{action}', 'Approve, reject, defer or mark paid (the member is emailed)'],
  ['get', '/admin/people', 'People with roles; find anyone by email or name (admin only)'],
  ['post', '/admin/people/{id}/roles/{role}/{change}', 'Grant or revoke the admin or treasurer role (admin only)'],
  ['get', '/admin/audit', 'The audit log, filtered by actor, subject and action'],
]);
