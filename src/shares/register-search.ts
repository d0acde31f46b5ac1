/** The board's search of the register of members. */
import type { AppDeps } from '../deps.js';
import { recordAudit, type Actor } from '../admin/audit.service.js';
import { searchMembers } from './register.repository.js';
import { memberView, type MemberView } from './register.views.js';

/** Admin search of the register by name, email, member number or postcode; paged. */
export async function searchRegister(
  deps: Pick<AppDeps, 'clock' | 'db'>,
  actor: Actor,
  search: { query?: string; page: number; pageSize: number },
): Promise<{ members: MemberView[]; page: number; pageSize: number; total: number }> {
  const { rows, total } = await searchMembers(deps.db, {
    query: search.query,
    limit: search.pageSize,
    offset: (search.page - 1) * search.pageSize,
  });
  await deps.db.transaction().execute((trx) =>
    recordAudit(trx, deps.clock, actor, {
      action: 'register.searched',
      subjectType: 'register',
      subjectId: 'members',
      // Not the words searched for: they are often a person's name or email.
      after: { searched: Boolean(search.query), page: search.page, results: rows.length },
    }),
  );
  return { members: rows.map(memberView), page: search.page, pageSize: search.pageSize, total };
}
