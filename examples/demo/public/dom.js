// Generic DOM helpers. Text goes in through textContent / append only, so
// server strings are never parsed as HTML (the CSP would not save us there).

export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html is missing #${id}`);
  return element;
}

export function el(tag, className = '', text = '') {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

/** Append a <dt>term</dt><dd>value</dd> pair; value is a string or a node. */
export function addDetail(list, term, value) {
  const detail = el('dd');
  detail.append(value);
  list.append(el('dt', '', term), detail);
}

/**
 * Wire a form's submit to an async handler that runs at most once at a time.
 * The disabled button shows it; the flag enforces it (Enter in a field, fast
 * clicks). Errors the handler throws go to onError.
 */
export function onSubmit(form, handler, onError) {
  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    const buttons = form.querySelectorAll('button[type="submit"]');
    const focused = document.activeElement;
    form.setAttribute('aria-busy', 'true');
    for (const button of buttons) button.disabled = true;
    try {
      await handler();
    } catch (error) {
      onError(error);
    } finally {
      busy = false;
      form.removeAttribute('aria-busy');
      // A button counting down (see countdown.js) stays disabled until its countdown ends.
      for (const button of buttons) button.disabled = button.dataset.countdown === 'true';
      // Disabling a focused button can drop focus to <body>; put it back if the form is still shown.
      if (document.activeElement === document.body && form.checkVisibility?.() && focused instanceof HTMLElement) {
        focused.focus();
      }
    }
  });
}
