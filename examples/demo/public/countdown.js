// A button that is disabled and counts down the seconds until it may be used
// again. It counts against a deadline, not ticks, so a background tab whose
// timers the browser slows still shows the right number when it wakes.

/**
 * @param {HTMLButtonElement} button
 * @param {{ label: (seconds: number) => string, onEnd?: () => void }} options
 */
export function createCountdown(button, { label, onEnd = () => {} }) {
  const idleText = button.textContent;
  let deadline = 0;
  let timer = 0;

  function tick() {
    const seconds = Math.ceil((deadline - Date.now()) / 1000);
    if (seconds > 0) {
      button.textContent = label(seconds);
      return;
    }
    stop();
    onEnd();
  }

  function stop() {
    clearInterval(timer);
    timer = 0;
    delete button.dataset.countdown; // onSubmit leaves a counting-down button disabled
    button.disabled = false;
    button.textContent = idleText;
  }

  return {
    get running() {
      return timer !== 0;
    },
    /** Disables the button for `seconds`, showing how many are left. */
    start(seconds) {
      clearInterval(timer);
      deadline = Date.now() + seconds * 1000;
      button.dataset.countdown = 'true';
      button.disabled = true;
      timer = setInterval(tick, 250);
      tick();
    },
  };
}
