// What a badge field received, read back as the badge code it stands for. Badge codes are 0-9 and A-Z only.
(function () {
  "use strict";

  // A scanner set up for a US keyboard, on an AZERTY layout (French, Belgian), types the digit row unshifted.
  const AZERTY_DIGITS = { "&": "1", "é": "2", "\"": "3", "'": "4", "(": "5", "-": "6", "è": "7", "_": "8",
    "ç": "9", "à": "0" };

  // `length` is a badge code's length: a "-" is AZERTY's 6 when it makes a whole code, else a separator
  // (people type codes in groups of four: "1R5E-...-1TK7"). Lowercase (Caps Lock, a phone keyboard) means the
  // same code; the codes never hold O, I or L (Crockford's base32, attendance/tokens.py): whoever typed one meant
  // 0 or 1.
  function normalize(raw, length) {
    const text = String(raw).trim().replace(/[\s\u2010-\u2015]+/g, "");
    const read = (typed) => Array.from(typed, (c) => AZERTY_DIGITS[c] || c).join("").toUpperCase()
      .replace(/O/g, "0").replace(/[IL]/g, "1");
    const withoutSeparators = read(text.replace(/-/g, ""));
    if (text.includes("-") && withoutSeparators.length === length) return withoutSeparators;
    return read(text);
  }

  window.BadgeCode = { normalize: normalize };
})();
