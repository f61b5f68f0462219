import type { FormInstance } from 'element-plus';
import { type Ref, ref, useTemplateRef, watch } from 'vue';
// Relative (not '@/'): the unit test beside this file runs under the root vitest config, which has no alias.
import { errorText } from '../api/errors';

export interface FormDialogOptions<T> {
  /** The dialog's v-model. */
  visible: Ref<boolean>;
  /** Fill the form each time the dialog opens: empty for a new record, a copy of the one being edited. */
  reset?: () => void;
  /** Send the form; null when there was nothing to send (the dialog then just closes). */
  send: () => Promise<T | null>;
  /** After a successful send, once the dialog is closed: emit "saved", show a message. */
  saved?: (result: T) => void;
  /** The words shown for a failed send (default: the server's message). */
  describe?: (error: unknown) => string;
}

/**
 * The life of a create-or-edit dialog: reset and clear the validation when it opens, validate, send while
 * `busy`, show a failure in `error` (the dialog stays open), close and report `saved` on success. The dialog's
 * el-form is found by `ref="dialogForm"` (a dialog without one is not validated).
 *
 * @example
 * const { formRef, busy, error, submit } = useFormDialog({
 *   visible,
 *   reset: () => Object.assign(form, blank()),
 *   send: () => call(api.POST('/api/admin/users', { body: form })),
 *   saved: (user) => emit('created', user),
 * });
 */
export function useFormDialog<T>(options: FormDialogOptions<T>) {
  const formRef = useTemplateRef<FormInstance>('dialogForm');
  const busy = ref(false);
  const error = ref('');

  watch(
    options.visible,
    (open) => {
      if (!open) return;
      error.value = '';
      options.reset?.();
      formRef.value?.clearValidate();
    },
    { immediate: true },
  );

  /** Validate (when the dialog has an el-form), then send. */
  async function submit(): Promise<void> {
    if (formRef.value && !(await formRef.value.validate().catch(() => false))) return;
    error.value = '';
    busy.value = true;
    try {
      const result = await options.send();
      options.visible.value = false;
      if (result !== null) options.saved?.(result);
    } catch (e) {
      error.value = (options.describe ?? errorText)(e);
    } finally {
      busy.value = false;
    }
  }

  function close(): void {
    options.visible.value = false;
  }

  return { formRef, busy, error, submit, close };
}
