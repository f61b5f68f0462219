import { api, call, type Schemas } from './client';

// Owner labels for the admin tables, kept for the page's lifetime: user ids are looked up once.

type User = Schemas['User'];

const labels = new Map<string, string>();

/** "name <email>", or the email when the name adds nothing. */
export const ownerLabel = (u: User) => (u.name && u.name !== u.email ? `${u.name} <${u.email}>` : u.email);
/** Keep the labels of users an answer brought. */
export function rememberOwners(users: User[]): void {
  for (const u of users) labels.set(u.id, ownerLabel(u));
}

/** A label from ownerLabels as [name or email, email or null], to show on two lines. */
export function ownerLines(text: string): [string, string | null] {
  const m = /^(.*) <([^<>]+)>$/.exec(text);
  return m ? [m[1] ?? text, m[2] ?? null] : [text, null];
}

/** The label of a user id seen before, if any. */
export function knownOwner(id: string): string | undefined {
  return labels.get(id);
}

/** Labels ("name <email>") for user ids, for admin tables; unknown ids are looked up one by one. */
export async function ownerLabels(ids: string[]): Promise<Record<string, string>> {
  const missing = [...new Set(ids)].filter((id) => id && !labels.has(id));
  if (missing.length > 5) {
    try {
      rememberOwners((await call(api.GET('/api/admin/users', { params: { query: { limit: 500 } } }))).data);
    } catch {
      // Fall back to single look-ups below.
    }
  }
  await Promise.all(
    missing
      .filter((id) => !labels.has(id))
      .map(async (id) => {
        try {
          rememberOwners([await call(api.GET('/api/admin/users/{id}', { params: { path: { id } } }))]);
        } catch {
          labels.set(id, id);
        }
      }),
  );
  return Object.fromEntries(ids.map((id) => [id, labels.get(id) ?? id]));
}
