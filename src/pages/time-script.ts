// The only script of the pages, served from /.gatehouse/assets/ (CSP script-src 'self'): shows
// every <time datetime> in the reader's time zone and keeps the UTC value on hover (title). Without
// it the page still reads correctly: the text is the UTC time. The console's script calls
// gatehouseLocalTimes(root) again on the parts it refreshes.
export const TIME_SCRIPT = `(function () {
  var opts = { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' };
  function localize(root) {
    var list = root.querySelectorAll('time[datetime]');
    for (var i = 0; i < list.length; i++) {
      var el = list[i];
      var d = new Date(el.getAttribute('datetime'));
      if (isNaN(d.getTime())) continue;
      el.title = el.getAttribute('data-utc') || el.textContent;
      el.textContent = d.toLocaleString(undefined, opts);
      el.setAttribute('data-local', '');
    }
  }
  window.gatehouseLocalTimes = localize;
  localize(document);
})();
`;
