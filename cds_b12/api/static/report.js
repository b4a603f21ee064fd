/* The governance report's weekly trend charts: one line chart per rule and site, drawn with
 * the vendored Chart.js (global `Chart`) from the page's JSON block. For tests, the charts
 * are exposed as window.reportCharts, and body gets data-ready once they are drawn. */
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const series = [
    ['issued', 'Issued', '#155e75'],
    ['accepted', 'Accepted', '#067647'],
    ['overridden', 'Overridden', '#b42318'],
    ['snoozed', 'Snoozed', '#b54708'],
  ];
  window.reportCharts = data.rows.map((row, i) => {
    const canvas = document.querySelector(`canvas[data-row="${i}"]`);
    const weeks = Object.keys(row.weeks);
    return new Chart(canvas, {
      type: 'line',
      data: {
        labels: weeks,
        datasets: series.map(([key, label, colour]) => ({
          label,
          data: weeks.map((w) => row.weeks[w][key]),
          borderColor: colour,
          backgroundColor: colour,
          tension: 0,
        })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: 'bottom' } },
      },
    });
  });
  document.body.dataset.ready = 'true';
})();
