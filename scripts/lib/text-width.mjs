// How many columns a terminal draws a string in, so the CLI's tables line up whatever a tenant
// is named: padEnd counts UTF-16 code units, which put a row holding CJK characters (two
// columns each) ten columns out of line, and one holding a combining accent one column short.

// A grapheme holding one of these is drawn two columns wide: the East Asian Wide and Fullwidth
// blocks (Hangul Jamo, CJK, kana, Hangul syllables, fullwidth forms, the supplementary
// ideographs) and emoji shown as emoji (by default, or asked for with VS16, U+FE0F).
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]|\ufe0f|\p{Emoji_Presentation}/u;
// A grapheme of these alone (a combining mark with nothing before it, a zero-width space or
// joiner) takes no column.
const NONE = /^[\p{Mn}\p{Me}\p{Cf}]+$/u;

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/** The terminal columns `text` takes (an approximation of wcwidth over grapheme clusters). */
export function displayWidth(/** @type {string} */ text) {
  // ASCII, most cells: one column a character.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (NONE.test(segment)) continue;
    width += WIDE.test(segment) ? 2 : 1;
  }
  return width;
}

/** `text` followed by the spaces that make it `width` terminal columns (none when it is wider). */
export const padToWidth = (/** @type {string} */ text, /** @type {number} */ width) =>
  text + " ".repeat(Math.max(0, width - displayWidth(text)));
