import type { Directive } from 'vue';

/** Below this width (px) list tables are drawn as a list of cards (see styles.css, `[data-cards]`). */
export const CARD_BREAKPOINT = 768;

const COLUMN = /^el-table_\d+_column_\d+$/;
const column = (cell: Element) => [...cell.classList].find((c) => COLUMN.test(c));

/** Copy each header cell's text onto the body cells of its column (`data-label`), for the card layout. */
function label(table: HTMLElement): void {
  const labels = new Map<string, string>();
  for (const th of table.querySelectorAll('th')) {
    const id = column(th);
    if (id) labels.set(id, th.textContent?.trim() ?? '');
  }
  for (const td of table.querySelectorAll<HTMLElement>('td')) {
    const id = column(td);
    const text = id ? labels.get(id) : undefined;
    if (text !== undefined && td.dataset.label !== text) td.dataset.label = text;
  }
}

const observers = new WeakMap<HTMLElement, MutationObserver>();

/**
 * `v-card-table` on an el-table: on a phone every row becomes a card of "label: value" lines, so nothing
 * needs sideways scrolling and the actions stay on screen. The labels follow the headers (and the locale)
 * as rows and columns change.
 */
export const vCardTable: Directive<HTMLElement> = {
  mounted(el) {
    // An attribute, not a class: Vue rewrites the component's class list when the table re-renders.
    el.dataset.cards = '';
    let queued = false;
    const observer = new MutationObserver(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        label(el);
      });
    });
    observer.observe(el, { childList: true, subtree: true, characterData: true });
    observers.set(el, observer);
    label(el);
  },
  unmounted(el) {
    observers.get(el)?.disconnect();
    observers.delete(el);
  },
};
