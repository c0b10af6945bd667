/**
 * The report's one inline script: filters the findings (free text over every field shown, and severity) and the
 * identity table, and sorts any table marked `sortable` by a click (or Enter) on a column header. It reads only
 * what the page already shows, changes only `hidden`, the order of rows and `aria-sort`, never writes markup
 * (textContent only), and fetches nothing. The page's Content-Security-Policy allows exactly this script by its
 * SHA-256 (REPORT_SCRIPT_CSP_SOURCE), so no other script can run, injected or not.
 */
import { createHash } from 'node:crypto';
import { escapeHtml as h } from '../text/escape.ts';

/** The script's text, byte for byte as it sits between `<script>` and `</script>`. */
export const REPORT_SCRIPT = `(function () {
  'use strict';
  var text = document.getElementById('finding-filter');
  var level = document.getElementById('finding-severity');
  var count = document.getElementById('finding-count');
  function matches(node, q) { return q === '' || (node.textContent || '').toLowerCase().indexOf(q) !== -1; }
  function apply() {
    var q = text ? text.value.trim().toLowerCase() : '';
    var sev = level ? level.value : '';
    var findings = document.querySelectorAll('#findings tbody.finding');
    var shown = 0;
    for (var i = 0; i < findings.length; i++) {
      var ok = (sev === '' || findings[i].getAttribute('data-severity') === sev) && matches(findings[i], q);
      findings[i].hidden = !ok;
      if (ok) shown++;
    }
    var identities = document.querySelectorAll('#identities tbody');
    for (var j = 0; j < identities.length; j++) identities[j].hidden = !matches(identities[j], q);
    if (count) count.textContent = shown + ' of ' + findings.length + ' findings shown';
  }
  if (text) text.addEventListener('input', apply);
  if (level) level.addEventListener('change', apply);
  function key(unit, column) {
    var row = unit.tagName === 'TBODY' ? unit.rows[0] : unit;
    var cell = row && row.cells[column];
    if (!cell) return '';
    return cell.getAttribute('data-sort') || (cell.textContent || '').trim();
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== '' && b !== '' && !isNaN(x) && !isNaN(y)) return x - y;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function sort(table, column, th) {
    var descending = th.getAttribute('aria-sort') === 'ascending';
    var bodies = table.querySelectorAll(':scope > tbody.finding, :scope > tbody.unit');
    var units = [];
    var parent;
    if (bodies.length > 0) { parent = table; for (var i = 0; i < bodies.length; i++) units.push(bodies[i]); }
    else { parent = table.tBodies[0]; if (!parent) return; for (var j = 0; j < parent.rows.length; j++) units.push(parent.rows[j]); }
    var keyed = units.map(function (u, n) { return { u: u, k: key(u, column), n: n }; });
    keyed.sort(function (p, q) { return (descending ? -1 : 1) * compare(p.k, q.k) || p.n - q.n; });
    for (var m = 0; m < keyed.length; m++) parent.appendChild(keyed[m].u);
    var heads = table.querySelectorAll('thead th');
    for (var k = 0; k < heads.length; k++) heads[k].removeAttribute('aria-sort');
    th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
  }
  var tables = document.querySelectorAll('table.sortable');
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var heads = table.querySelectorAll('thead th');
      for (var c = 0; c < heads.length; c++) {
        (function (th, column) {
          th.tabIndex = 0;
          th.title = 'Sort by this column';
          th.addEventListener('click', function () { sort(table, column, th); });
          th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(table, column, th); });
        })(heads[c], c);
      }
    })(tables[t]);
  }
  apply();
})();`;

/** The CSP source expression that allows REPORT_SCRIPT and nothing else: `'sha256-<base64>'`. */
export const REPORT_SCRIPT_CSP_SOURCE = `'sha256-${createHash('sha256').update(REPORT_SCRIPT, 'utf8').digest('base64')}'`;

/** The report's Content-Security-Policy: nothing from anywhere, inline styles, data: images, and the one script. */
export const REPORT_CSP = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src ${REPORT_SCRIPT_CSP_SOURCE}`;

/** The filter bar above the findings: free text and severity, with a live count the script fills in. */
export function findingFilters(severities: readonly string[]): string {
  const options = severities.map((s) => `<option value="${h(s)}">${h(s)}</option>`).join('');
  return `<div class="filters" role="search"><label>Filter <input id="finding-filter" type="search" placeholder="actor, address, action, target, detail..." autocomplete="off"></label>
<label>Severity <select id="finding-severity"><option value="">all</option>${options}</select></label>
<span id="finding-count" class="meta-dark" aria-live="polite"></span></div>`;
}
