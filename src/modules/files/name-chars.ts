/**
 * Which invisible characters a stored file name keeps. Format characters (Unicode `Cf`) and
 * controls can make a name read as something else: a right-to-left override shows
 * `evil\u202Egnp.exe` as `evilexe.png`. But some invisible characters are how visible text is
 * written: the joiners ZWJ and ZWNJ hold emoji sequences together (👨‍👩‍👧, ❤️‍🔥) and shape
 * Persian and Indic words, variation selectors pick an emoji's or a glyph's form, and a subdivision
 * flag (🏴 England, Scotland, Wales) is a black flag followed by tag characters. Stripping
 * those broke the sequence into its parts. They are kept where they join or follow visible
 * characters (a joiner only between letters, digits or emoji, so never beside the extension's
 * dot), and nothing else invisible is.
 */

/** Controls and format characters: bidi controls, zero-width spaces, word joiners, tags, … */
const INVISIBLE = /^[\p{Cc}\p{Cf}]$/u;
/** ZWNJ and ZWJ (Unicode `Join_Control`). */
const JOINER = /^\p{Join_Control}$/u;
/** Variation selectors (VS1–VS256 and the Mongolian ones), nonspacing marks of no width of their own. */
const SELECTOR = /^\p{Variation_Selector}$/u;
/** What a tag sequence follows (UTS #51 `tag_base`; in practice the black flag 🏴). */
const EMOJI = /^\p{Extended_Pictographic}$/u;
/** A tag character of a tag sequence's spec, and the cancel tag that ends one (UTS #51). */
const TAG_SPEC = /^[\u{E0020}-\u{E007E}]$/u;
const CANCEL_TAG = "\u{E007F}";
/** What a joiner joins: letters and marks (Persian, Indic), digits, emoji and their skin tones. */
const JOINABLE = /^[\p{L}\p{M}\p{N}\p{Extended_Pictographic}\p{Emoji_Modifier}]$/u;
/** Blank or invisible: nothing for a selector to attach to. */
const NOTHING_VISIBLE = /^[\s\p{Z}\p{C}]$/u;

/** How many characters from `at` are a whole tag spec and its cancel tag; 0 if they are not one. */
function tagRun(chars: readonly string[], at: number): number {
  let end = at;
  while (TAG_SPEC.test(chars[end] ?? "")) end++;
  return end > at && chars[end] === CANCEL_TAG ? end - at + 1 : 0;
}

/** Whether `ch` shows something a selector may attach to. */
const visible = (ch: string | undefined) =>
  ch !== undefined && !NOTHING_VISIBLE.test(ch) && !SELECTOR.test(ch) && !JOINER.test(ch);

/**
 * `name` without control and format characters, but for joiners between letters, digits or
 * emoji, variation selectors after a visible character and a whole tag sequence after an emoji.
 *
 * @example
 * withoutInvisible("evil\u202Egnp.exe"); // "evilgnp.exe"
 * withoutInvisible("👨\u200D👩\u200D👧.png"); // unchanged
 */
export function withoutInvisible(name: string): string {
  const chars = Array.from(name);
  // First: every control and format character goes, but joiners (placed below) and a tag
  // sequence after an emoji (a flag), kept whole.
  const kept: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? "";
    if (EMOJI.test(ch)) {
      const tags = tagRun(chars, i + 1);
      kept.push(ch, ...chars.slice(i + 1, i + 1 + tags));
      i += tags;
    } else if (JOINER.test(ch) || !INVISIBLE.test(ch)) kept.push(ch);
  }
  // Then: a joiner stays between two characters it can join, a selector after a visible one.
  const out: string[] = [];
  for (let i = 0; i < kept.length; i++) {
    const ch = kept[i] ?? "";
    const before = out.at(-1);
    // A kept selector or a flag's cancel tag stands for the character it belongs to.
    const ofCharacter = before !== undefined && (SELECTOR.test(before) || before === CANCEL_TAG);
    if (SELECTOR.test(ch)) {
      if (ofCharacter || visible(before)) out.push(ch);
    } else if (JOINER.test(ch)) {
      // Not beside punctuation or blanks: `a\u200C.txt` reads as `a.txt` and joins nothing.
      if ((ofCharacter || JOINABLE.test(before ?? "")) && JOINABLE.test(kept[i + 1] ?? "")) out.push(ch);
    } else out.push(ch);
  }
  return out.join("");
}
