import { onBeforeUnmount, type Ref, ref } from 'vue';

/**
 * Whether the screen is phone-sized (at most 768 px wide), kept current while the calling component is mounted.
 * Tables use it to let a fixed actions column scroll with the rest, where it would cover the table.
 */
export function useNarrowScreen(): Readonly<Ref<boolean>> {
  const query = window.matchMedia('(max-width: 768px)');
  const narrow = ref(query.matches);
  const onChange = (e: MediaQueryListEvent) => {
    narrow.value = e.matches;
  };
  query.addEventListener('change', onChange);
  onBeforeUnmount(() => query.removeEventListener('change', onChange));
  return narrow;
}
