// The page's HTML and CSS, served as they are: the markup is the skeleton app.js fills in, the CSS
// lays tiles out in a grid that folds to one column at phone width. Colours pass WCAG AA contrast.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cellctl dashboard</title>
<link rel="stylesheet" href="vendor/uPlot.min.css">
<link rel="stylesheet" href="style.css">
</head>
<body>
<header>
  <h1>cellctl</h1>
  <p id="summary" class="badge tone-idle"><span class="word">connecting</span></p>
  <p id="updated" class="muted">waiting for the first reading</p>
</header>
<main>
  <ul id="problems" class="plain" aria-label="problems"></ul>
  <section aria-labelledby="h-incidents" id="incidents-strip" hidden><h2 id="h-incidents">Incidents, last hour</h2><ol id="incidents" class="plain"></ol></section>
  <section aria-labelledby="h-routers"><h2 id="h-routers">Routers</h2><div id="routers" class="tiles"></div></section>
  <section aria-labelledby="h-cells"><h2 id="h-cells">Cells</h2><div id="cells" class="tiles"></div></section>
  <div class="columns">
    <section aria-labelledby="h-moves"><h2 id="h-moves">Moves</h2><ul id="batches" class="plain"></ul><ul id="moves" class="plain"></ul></section>
    <section aria-labelledby="h-search">
      <h2 id="h-search">Find a customer</h2>
      <form id="search" role="search">
        <label for="customer">Customer id</label>
        <input id="customer" name="customer" autocomplete="off" spellcheck="false" required>
        <button type="submit">Find</button>
      </form>
      <div id="customer-result" aria-live="polite"></div>
    </section>
  </div>
  <section aria-labelledby="h-traffic" id="traffic-section" hidden>
    <h2 id="h-traffic">Refused and failed requests, by router</h2>
    <p class="muted">Counts since each router started, from its own metrics: the requests it answered itself, by reason, and the cells' 4xx and 5xx answers.</p>
    <table id="traffic"></table>
  </section>
  <section aria-labelledby="h-events">
    <h2 id="h-events">Events</h2>
    <form id="event-filter" class="filters">
      <label for="event-kind">Kind</label>
      <select id="event-kind"><option value="">all kinds</option></select>
      <label for="event-subject">Subject</label>
      <input id="event-subject" autocomplete="off" spellcheck="false" placeholder="a cell, customer or process">
    </form>
    <ol id="events" class="plain"></ol>
  </section>
</main>
<script src="vendor/uPlot.iife.min.js"></script>
<script type="module" src="app.js"></script>
</body>
</html>
`;

export const PAGE_CSS = `
:root { font-family: system-ui, sans-serif; color: #111827; background: #f3f4f6; }
body { margin: 0; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1rem; padding: .75rem 1rem; background: #fff; border-bottom: 1px solid #d1d5db; }
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: 1rem; margin: 1rem 0 .5rem; }
h3 { font-size: 1rem; margin: 0; }
main { padding: 0 1rem 1rem; max-width: 1400px; }
.muted { color: #4b5563; margin: 0; font-size: .875rem; }
.plain { list-style: none; padding: 0; margin: 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: .75rem; }
.tile { background: #fff; border: 1px solid #d1d5db; border-left: .4rem solid #9ca3af; border-radius: .375rem; padding: .6rem .75rem; min-width: 0; }
.tile.tone-ok { border-left-color: #059669; }
.tile.tone-bad { border-left-color: #dc2626; }
.tile.tone-warn { border-left-color: #d97706; }
.tile-head { display: flex; justify-content: space-between; align-items: center; gap: .5rem; }
.badge { display: inline-block; margin: 0; padding: .1rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
.tone-ok .badge, .badge.tone-ok { background: #d1fae5; color: #065f46; }
.tone-bad .badge, .badge.tone-bad { background: #fee2e2; color: #991b1b; }
.tone-warn .badge, .badge.tone-warn { background: #fef3c7; color: #92400e; }
.tone-idle .badge, .badge.tone-idle { background: #e5e7eb; color: #1f2937; }
.facts { display: grid; grid-template-columns: repeat(3, 1fr); gap: .25rem .5rem; margin: .5rem 0; }
.facts div { min-width: 0; }
.facts dt { font-size: .75rem; color: #4b5563; }
.facts dd { margin: 0; font-variant-numeric: tabular-nums; font-weight: 600; }
.fill { display: flex; align-items: center; gap: .5rem; font-size: .8rem; color: #374151; }
meter, progress { flex: 1; width: 100%; height: .8rem; }
.chart { min-height: 100px; }
.legend { font-size: .75rem; }
.key-rps { color: #1d4ed8; }
.key-p99 { color: #92400e; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.move, .batch { background: #fff; border: 1px solid #d1d5db; border-radius: .375rem; padding: .5rem .75rem; margin-bottom: .5rem; }
.move p, .batch p { margin: .15rem 0; }
code { background: #e5e7eb; padding: 0 .25rem; border-radius: .2rem; font-size: .85rem; }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
input { font: inherit; padding: .3rem .5rem; border: 1px solid #6b7280; border-radius: .25rem; min-width: 0; flex: 1; }
button { font: inherit; padding: .3rem .9rem; border: 1px solid #1e3a8a; background: #1e40af; color: #fff; border-radius: .25rem; cursor: pointer; }
#customer-result { margin-top: .5rem; background: #fff; border-radius: .375rem; }
#customer-result:not(:empty) { border: 1px solid #d1d5db; padding: .5rem .75rem; }
table { border-collapse: collapse; font-size: .875rem; }
th, td { text-align: left; padding: .15rem .75rem .15rem 0; }
#events li { display: grid; grid-template-columns: 6rem 14rem 1fr; gap: .5rem; padding: .25rem 0; border-bottom: 1px solid #e5e7eb; font-size: .875rem; }
#events time { color: #4b5563; font-variant-numeric: tabular-nums; }
#incidents li { display: grid; grid-template-columns: 6rem 14rem 1fr; gap: .5rem; padding: .25rem .5rem; background: #fff; border-left: .3rem solid #dc2626; margin-bottom: .25rem; font-size: .875rem; }
#traffic { background: #fff; border: 1px solid #d1d5db; }
#traffic th, #traffic td { padding: .2rem .75rem; border-bottom: 1px solid #e5e7eb; font-variant-numeric: tabular-nums; }
.filters { margin-bottom: .5rem; }
.filters input { flex: 0 1 16rem; }
select { font: inherit; padding: .25rem .4rem; border: 1px solid #6b7280; border-radius: .25rem; }
#problems li { color: #991b1b; background: #fff; border: 1px solid #fca5a5; border-radius: .375rem; padding: .35rem .75rem; margin-top: .5rem; font-size: .875rem; }
@media (max-width: 700px) {
  .columns { grid-template-columns: 1fr; }
  .tiles { grid-template-columns: 1fr; }
  #events li { grid-template-columns: 5rem 1fr; }
  #events li .message { grid-column: 1 / -1; }
}
`;
