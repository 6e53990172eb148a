/**
 * The inbox's "a visitor wrote" sound: a short two-note chime made with
 * WebAudio, so there is no sound file to serve or to allow in the page's
 * Content-Security-Policy. Browsers let audio start only once the user has
 * interacted with the page, so the first click or key press resumes the
 * audio context; before that a chime is simply silent.
 *
 * @module
 */

/** The two notes, in Hz, and when each starts, in seconds. */
const NOTES: readonly (readonly [hz: number, at: number])[] = [
  [880, 0],
  [1320, 0.12],
];
/** How long the chime lasts, in seconds. */
const LENGTH_S = 0.4;

/**
 * Prepares the chime on a page.
 *
 * @returns a function that plays it (and does nothing without WebAudio)
 */
export function createChime(page: Window = window): () => void {
  let context: AudioContext | undefined;
  const audio = (): AudioContext | undefined => {
    try {
      context ??= new AudioContext();
    } catch {
      // No WebAudio (or too many contexts): the inbox stays silent.
    }
    return context;
  };
  const unlock = (): void => void audio()?.resume().catch(() => {});
  for (const type of ["pointerdown", "keydown"]) {
    page.addEventListener(type, unlock, { once: true, capture: true });
  }
  return () => {
    const output = audio();
    if (!output) return;
    const now = output.currentTime;
    const gain = output.createGain();
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.25, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + LENGTH_S);
    gain.connect(output.destination);
    for (const [hz, at] of NOTES) {
      const note = output.createOscillator();
      note.frequency.value = hz;
      note.connect(gain);
      note.start(now + at);
      note.stop(now + LENGTH_S);
    }
  };
}
