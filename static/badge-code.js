// What a badge field received, read back as the badge code it stands for. Badge codes are 0-9 and A-Z only.
(function () {
  "use strict";

  // A scanner set up for a US keyboard, on an AZERTY layout (French, Belgian), types the digit row unshifted.
  const AZERTY_DIGITS = { "&": "1", "é": "2", "\"": "3", "'": "4", "(": "5", "-": "6", "è": "7", "_": "8",
    "ç": "9", "à": "0" };

  // `length` is a badge code's length: a "-" is AZERTY's 6 when it makes a whole code, else a separator
  // (people type codes in groups of four: "1R5E-...-1TK7").
  function normalize(raw, length) {
    const text = String(raw).trim().replace(/\s+/g, "");
    const asAzerty = Array.from(text, (c) => AZERTY_DIGITS[c] || c).join("").toUpperCase();
    const withoutSeparators = Array.from(text.replace(/-/g, ""), (c) => AZERTY_DIGITS[c] || c).join("").toUpperCase();
    if (text.includes("-") && withoutSeparators.length === length) return withoutSeparators;
    return asAzerty;
  }

  window.BadgeCode = { normalize: normalize };
})();
