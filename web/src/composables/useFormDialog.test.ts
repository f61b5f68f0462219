import { describe, expect, it, vi } from 'vitest';
import { nextTick, ref } from 'vue';
import { ApiRequestError } from '../api/client';
import { useFormDialog } from './useFormDialog';

// Outside a component there is no template ref, so these run the dialogs' no-form path (no validation).
vi.spyOn(console, 'warn').mockImplementation(() => {});

describe('useFormDialog', () => {
  it('resets and clears the error each time the dialog opens', async () => {
    const visible = ref(false);
    const reset = vi.fn();
    const dialog = useFormDialog({ visible, reset, send: async () => 'x' });
    expect(reset).not.toHaveBeenCalled();
    dialog.error.value = 'old failure';
    visible.value = true;
    await nextTick();
    expect(reset).toHaveBeenCalledTimes(1);
    expect(dialog.error.value).toBe('');
  });

  it('is busy while sending, then closes and reports the result', async () => {
    const visible = ref(true);
    const saved = vi.fn();
    let finish: (value: string) => void = () => {};
    const dialog = useFormDialog({ visible, send: () => new Promise<string>((r) => (finish = r)), saved });
    const submitting = dialog.submit();
    expect(dialog.busy.value).toBe(true);
    finish('row');
    await submitting;
    expect(dialog.busy.value).toBe(false);
    expect(visible.value).toBe(false);
    expect(saved).toHaveBeenCalledWith('row');
  });

  it('closes without reporting when there was nothing to send', async () => {
    const visible = ref(true);
    const saved = vi.fn();
    await useFormDialog({ visible, send: async () => null, saved }).submit();
    expect(visible.value).toBe(false);
    expect(saved).not.toHaveBeenCalled();
  });

  it('keeps the dialog open with the failure in words', async () => {
    const visible = ref(true);
    const saved = vi.fn();
    const failing = async (): Promise<string> => {
      throw new ApiRequestError('Email already registered', 409, 'conflict');
    };
    const dialog = useFormDialog({ visible, send: failing, saved });
    await dialog.submit();
    expect(dialog.error.value).toBe('Email already registered');
    expect(dialog.busy.value).toBe(false);
    expect(visible.value).toBe(true);
    expect(saved).not.toHaveBeenCalled();
    const described = useFormDialog({ visible, send: failing, describe: (e) => `Duplicate (${String(e)})` });
    await described.submit();
    expect(described.error.value).toMatch(/^Duplicate/);
  });
});
