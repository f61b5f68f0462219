import { ElMessage } from 'element-plus';
import { ApiRequestError } from './client';

/** Words for an error, for a message box or an inline alert. */
export function errorText(error: unknown): string {
  if (error instanceof ApiRequestError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Show an API error as a toast (for actions without a form to hold the message). */
export function toastError(error: unknown): void {
  ElMessage({ type: 'error', message: errorText(error), showClose: true, duration: 6000 });
}
