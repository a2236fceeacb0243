// The delegate's page: each day's hours also in the browser's own time zone, when they differ from the
// session's ("(your time: 15:30–23:00, Asia/Singapore)"). The server gives each day's start and end as UTC
// instants and the sentence already translated, with {hours} and {zone} to fill in.
(function () {
  "use strict";

  function timesIn(zone, starts, ends, lang) {
    var time = new Intl.DateTimeFormat(lang, {hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone});
    var day = new Intl.DateTimeFormat(lang, {weekday: "short", day: "numeric", month: "short", timeZone: zone});
    var isoDay = new Intl.DateTimeFormat("en-CA", {year: "numeric", month: "2-digit", day: "2-digit", timeZone: zone});
    return {
      startDay: isoDay.format(starts), endDay: isoDay.format(ends),
      start: time.format(starts), end: time.format(ends),
      startLabel: day.format(starts), endLabel: day.format(ends)
    };
  }

  function show() {
    var list = document.querySelector(".day-times[data-your-time]");
    var browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!list || !browserZone) return;
    var lang = document.documentElement.lang || undefined;
    list.querySelectorAll(".your-time").forEach(function (span) {
      var starts = new Date(span.dataset.starts), ends = new Date(span.dataset.ends);
      var there = timesIn(span.dataset.zone, starts, ends, lang);
      var here = timesIn(browserZone, starts, ends, lang);
      if (here.startDay === there.startDay && here.endDay === there.endDay &&
          here.start === there.start && here.end === there.end) return;  // the same clock: nothing to add
      // The date is said only where it is not the session's day: west of it a day may start the evening before,
      // east of it end after midnight.
      var hours = (here.startDay === there.startDay ? "" : here.startLabel + " ") + here.start + "–" +
                  (here.endDay === here.startDay ? "" : here.endLabel + " ") + here.end;
      span.textContent = list.dataset.yourTime.replace("{hours}", hours).replace("{zone}", browserZone);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
  else show();
})();
