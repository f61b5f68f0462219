import { authFetch, errorFrom } from '@/api/client';

/** Fetch a file with the session's token and save it under `filename` (a link cannot carry the token). */
export async function downloadFile(path: string, filename: string): Promise<void> {
  const res = await authFetch(path);
  if (!res.ok) throw errorFrom(res.status, await res.json().catch(() => null));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
