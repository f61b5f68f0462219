import { defineStore } from 'pinia';
import { ref } from 'vue';
import { fetchProviders, type ProviderDescription } from '@/api/providers';

/** The server's provider declarations, fetched once per session (they change only with a server upgrade). */
export const useProviders = defineStore('providers', () => {
  const list = ref<ProviderDescription[]>([]);
  let pending: Promise<void> | null = null;

  /** Fetch the list unless it is loaded or loading; a failure rejects and lets the next call try again. */
  function load(): Promise<void> {
    pending ??= fetchProviders().then(
      (providers) => {
        list.value = providers;
      },
      (error: unknown) => {
        pending = null;
        throw error;
      },
    );
    return pending;
  }

  function find(id: string): ProviderDescription | undefined {
    return list.value.find((provider) => provider.id === id);
  }

  return { list, load, find };
});
